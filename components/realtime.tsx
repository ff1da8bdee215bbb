"use client";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import type Pusher from "pusher-js";
import type { RealtimeClientConfig } from "@/server/realtime/config";
import {
  createRealtimeClient,
  httpBatchAuthorizer,
  httpUserAuthenticator,
  reconnectWhenRefused,
} from "@/lib/realtime-client";

export type ConnectionState = "initialized" | "connecting" | "connected" | "unavailable" | "failed" | "disconnected";

type RealtimeValue = { pusher: Pusher | null; state: ConnectionState; config: RealtimeClientConfig };

const RealtimeContext = createContext<RealtimeValue | null>(null);

/** Connects pusher-js once signed in; `enabled` false keeps it off (auth pages). */
export function RealtimeProvider({ config, children }: { config: RealtimeClientConfig; children: ReactNode }) {
  const [value, setValue] = useState<RealtimeValue>({ pusher: null, state: "initialized", config });
  const [enabled, setEnabled] = useState(false);

  useEffect(() => {
    const onEnable = () => setEnabled(true);
    window.addEventListener("chorus:realtime-enable", onEnable);
    if (document.documentElement.dataset.signedIn === "true") setEnabled(true);
    return () => window.removeEventListener("chorus:realtime-enable", onEnable);
  }, []);

  useEffect(() => {
    if (!enabled) return;
    const pusher = createRealtimeClient({
      config,
      authorize: httpBatchAuthorizer("/api/pusher/auth"),
      authenticate: httpUserAuthenticator("/api/pusher/user-auth"),
      fallbackHost: window.location.hostname,
    });
    // A removal closes all the user's sockets (every tab): each reconnects, and resubscribes where still allowed.
    const stopReconnecting = reconnectWhenRefused(pusher);
    const update = (state: ConnectionState) => {
      document.documentElement.dataset.realtime = state;
      setValue({ pusher, state, config });
    };
    pusher.connection.bind("state_change", ({ current }: { current: ConnectionState }) => update(current));
    update(pusher.connection.state as ConnectionState);
    return () => {
      stopReconnecting();
      pusher.disconnect();
      document.documentElement.dataset.realtime = "disconnected";
    };
  }, [enabled, config]);

  return <RealtimeContext.Provider value={value}>{children}</RealtimeContext.Provider>;
}

export function useRealtime(): RealtimeValue {
  const value = useContext(RealtimeContext);
  if (!value) throw new Error("useRealtime must be used inside <RealtimeProvider>");
  return value;
}
