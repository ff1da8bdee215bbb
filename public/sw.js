// Chorus service worker: shows pushes as notifications (one per conversation,
// replaced in place via its tag) and opens or focuses the conversation on click.
// The server composes title and body, honouring the "hide message text" setting.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(event.data));
});

async function showPush(data) {
  let payload = null;
  try {
    payload = data ? data.json() : null;
  } catch {
    // Not JSON: still show something, as userVisibleOnly requires.
  }
  if (!payload || typeof payload.title !== "string") {
    return self.registration.showNotification("Chorus", { body: "You have new messages", tag: "chorus" });
  }
  return self.registration.showNotification(payload.title, {
    body: typeof payload.body === "string" ? payload.body : "",
    tag: typeof payload.tag === "string" ? payload.tag : "chorus",
    // A replaced notification (same tag) alerts again: it carries a newer message.
    renotify: true,
    icon: "/icon.svg",
    badge: "/icon.svg",
    data: { url: sameOriginPath(payload.url), conversationId: payload.conversationId, seq: payload.seq },
  });
}

/** Only conversation paths on this site: a payload can never send a click elsewhere. */
function sameOriginPath(url) {
  return typeof url === "string" && /^\/c\/[0-9a-f-]{36}$/i.test(url) ? url : "/";
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameOriginPath(event.notification.data?.url);
  event.waitUntil(openConversation(url));
});

async function openConversation(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  // A tab the app opened (about:blank inherits the origin) or a file it serves is a window client
  // too, but only app pages follow "chorus:open": focusing another would leave the click unanswered.
  const app = windows.filter((w) => {
    const at = new URL(w.url);
    return at.origin === self.location.origin && !at.pathname.startsWith("/api/");
  });
  const target = new URL(url, self.location.origin).href;
  const exact = app.find((w) => w.url === target);
  const client = exact || app[0];
  if (client) {
    // The open app switches conversation itself, keeping its caches and sockets.
    if (!exact) client.postMessage({ type: "chorus:open", url });
    return client.focus();
  }
  return self.clients.openWindow(url);
}
