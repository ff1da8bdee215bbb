export type SoketiWebhook = {
  url: string;
  event_types: string[];
  filter?: { channel_name_starts_with?: string; channel_name_ends_with?: string };
};

/**
 * The Soketi webhooks Chorus wants, pointed at this app. Only users' own
 * channels matter for presence; the filter spares the app a request each
 * time a conversation channel gains or loses its first subscriber.
 */
export function soketiWebhooks(appUrl: string): SoketiWebhook[] {
  return [
    {
      url: `${appUrl}/api/pusher/webhook`,
      event_types: ["channel_occupied", "channel_vacated"],
      filter: { channel_name_starts_with: "private-user-" },
    },
  ];
}
