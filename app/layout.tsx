import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import { realtimeClientConfig } from "@/server/realtime/config";
import "./globals.css";

// Realtime settings are read per request, so one build serves every deployment.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Chorus", description: "Self-hosted chat", icons: { icon: "/icon.svg" } };
export const viewport: Viewport = { width: "device-width", initialScale: 1, colorScheme: "light dark" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers realtime={realtimeClientConfig()}>{children}</Providers>
      </body>
    </html>
  );
}
