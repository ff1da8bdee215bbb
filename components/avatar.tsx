"use client";
import { useState } from "react";
import "./dialogs.css";

export type PresenceStatus = "online" | "away" | "busy" | "offline";

const presenceLabels: Record<PresenceStatus, string> = {
  online: "online",
  away: "away",
  busy: "busy",
  offline: "offline",
};

/** Up to two letters: first letters of the first and last words, or the first two of a single word. */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = Array.from(words[0]);
  if (words.length === 1) return first.slice(0, 2).join("").toUpperCase();
  const last = Array.from(words[words.length - 1]);
  return `${first[0]}${last[0]}`.toUpperCase();
}

/** A hue derived from the id, so a person keeps their color on every screen and device. */
export function hueOf(id: string): number {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % 360;
}

export function Avatar({
  id,
  name,
  url,
  size = 36,
  presence,
  decorative = false,
  className,
}: {
  id: string;
  name: string;
  url?: string | null;
  size?: number;
  /** Shows a presence dot; omit for groups or where presence is unknown. */
  presence?: PresenceStatus | null;
  /** Hide from assistive tech when the name is already written next to it. */
  decorative?: boolean;
  className?: string;
}) {
  const [failedUrl, setFailedUrl] = useState<string | null>(null);
  const showImage = Boolean(url) && failedUrl !== url;
  const label = presence ? `${name} (${presenceLabels[presence]})` : name;
  const a11y = decorative ? { "aria-hidden": true as const } : { role: "img", "aria-label": label };

  return (
    <span
      className={`avatar${className ? ` ${className}` : ""}`}
      style={{
        width: size,
        height: size,
        fontSize: Math.max(10, Math.round(size * 0.4)),
        ["--avatar-hue" as string]: hueOf(id),
      }}
      data-testid="avatar"
      data-presence={presence ?? undefined}
      title={label}
      {...a11y}
    >
      {showImage ? (
        // biome-ignore lint/performance/noImgElement: user-supplied avatars from any host; next/image would need every host allow-listed
        <img src={url!} alt="" width={size} height={size} onError={() => setFailedUrl(url!)} />
      ) : (
        <span className="avatar-initials">{initialsOf(name)}</span>
      )}
      {presence && <span className="presence-dot" data-testid="presence-dot" data-status={presence} />}
    </span>
  );
}
