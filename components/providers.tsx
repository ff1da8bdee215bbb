"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, loggerLink } from "@trpc/client";
import { type ReactNode, useState } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/api/root";
import type { RealtimeClientConfig } from "@/server/realtime/config";
import { MAX_TRPC_BATCH } from "@/lib/limits";
import { RealtimeProvider } from "./realtime";
import { endedSessionLink } from "./session-ended";
import { TRPCProvider } from "./trpc";

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, refetchOnWindowFocus: false, retry: 1 },
    },
  });
}

export function Providers({ children, realtime }: { children: ReactNode; realtime: RealtimeClientConfig }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        loggerLink({
          enabled: (op) =>
            op.direction === "down" && op.result instanceof Error && process.env.NODE_ENV === "development",
        }),
        endedSessionLink<AppRouter>(),
        httpBatchLink({ url: "/api/trpc", transformer: superjson, maxItems: MAX_TRPC_BATCH }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <RealtimeProvider config={realtime}>{children}</RealtimeProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
