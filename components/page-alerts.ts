// Alerts the page shows itself while its tab is hidden (the server sends no
// push to a user with a tab open), and the unread count in the favicon.
import type { WireMessage } from "@/server/realtime/events";
import { parseMentions } from "@/server/messaging/mentions";
import { notificationTag, notificationText } from "@/lib/notification-text";
import type { ConversationItem } from "./chat-store";

type Me = { id: string; username: string };

/** The same rule the push planner applies: level, snooze, DM or mention, never your own message. */
export function shouldAlert(m: WireMessage, conv: ConversationItem | undefined, me: Me, now = Date.now()): boolean {
  if (!conv || m.kind !== "text" || m.senderId === me.id) return false;
  const { level, snoozeUntil } = conv.notifications;
  if (snoozeUntil && Date.parse(snoozeUntil) > now) return false;
  if (level === "all") return true;
  if (level === "none") return false;
  if (conv.kind === "dm") return true;
  const mentions = parseMentions(m.body);
  return mentions.all || mentions.usernames.includes(me.username.toLowerCase());
}

export function alertFor(m: WireMessage, conv: ConversationItem, preview: boolean) {
  const text = notificationText({
    kind: conv.kind,
    conversationName: conv.kind === "group" ? conv.title : null,
    senderName: m.senderName ?? "Someone",
    preview: preview ? m.body : null,
    unread: Math.max(1, conv.unread),
  });
  return { ...text, tag: notificationTag(conv.id), url: `/c/${conv.id}` };
}

/**
 * Shows the alert through the service worker when there is one (a click then
 * focuses this tab and opens the conversation, as for a push), else as a page Notification.
 */
export async function showAlert(alert: ReturnType<typeof alertFor>, onClick: () => void): Promise<void> {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const registration = await navigator.serviceWorker?.getRegistration("/");
  const options = { body: alert.body, tag: alert.tag, icon: "/icon.svg", data: { url: alert.url } };
  if (registration) {
    await registration.showNotification(alert.title, { ...options, renotify: true } as NotificationOptions);
    return;
  }
  const notification = new Notification(alert.title, options);
  notification.onclick = () => {
    window.focus();
    onClick();
    notification.close();
  };
}

let baseIcon: HTMLImageElement | null = null;
let wanted = 0;

/** Draws the app icon with a red count in the corner into the page's favicon; none at zero. */
export function setFaviconCount(count: number) {
  wanted = count;
  document.documentElement.dataset.faviconCount = String(count);
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement("link");
    link.rel = "icon";
    document.head.appendChild(link);
  }
  if (count <= 0) {
    link.href = "/icon.svg";
    return;
  }
  const draw = () => {
    if (wanted <= 0) return;
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const ctx = canvas.getContext("2d");
    if (!ctx || !link) return;
    if (baseIcon?.complete) ctx.drawImage(baseIcon, 0, 0, 64, 64);
    ctx.fillStyle = "#dc2626";
    ctx.beginPath();
    ctx.arc(44, 20, 20, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#fff";
    ctx.font = "bold 26px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(wanted > 99 ? "99+" : String(wanted), 44, 21, 36);
    link.href = canvas.toDataURL("image/png");
  };
  if (!baseIcon) {
    baseIcon = new Image();
    baseIcon.src = "/icon.svg";
    baseIcon.onload = draw;
  }
  draw();
}
