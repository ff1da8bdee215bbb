"use client";
import { useEffect, useState } from "react";
import { useRealtime } from "./realtime";

const GRACE_MS = 1500;

/** Says so while the live connection is down; silent during the first connect and brief blips. */
export function ConnectionBanner() {
  const { state, pusher } = useRealtime();
  const [online, setOnline] = useState(true);
  const [everConnected, setEverConnected] = useState(false);
  const [show, setShow] = useState(false);

  useEffect(() => {
    setOnline(navigator.onLine);
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, []);

  useEffect(() => {
    if (state === "connected") setEverConnected(true);
  }, [state]);

  const down = !online || (state !== "connected" && (everConnected || state === "unavailable" || state === "failed"));
  useEffect(() => {
    if (!down) {
      setShow(false);
      return;
    }
    if (!online) {
      setShow(true);
      return;
    }
    const t = setTimeout(() => setShow(true), GRACE_MS);
    return () => clearTimeout(t);
  }, [down, online]);

  if (!show) return null;
  return (
    <div className="connection-banner" role="status" data-testid="connection-banner">
      <span>
        {!online
          ? "You are offline. Messages will arrive when you reconnect."
          : state === "failed"
            ? "Live updates are not available in this browser."
            : "Reconnecting…"}
      </span>
      {online && state !== "connecting" && state !== "failed" && (
        <button type="button" className="link-btn" onClick={() => pusher?.connect()}>
          Retry now
        </button>
      )}
    </div>
  );
}
