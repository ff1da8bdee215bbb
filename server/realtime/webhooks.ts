/** The Soketi webhooks Chorus wants, pointed at this app. */
export function soketiWebhooks(appUrl: string): { url: string; event_types: string[] }[] {
  return [{ url: `${appUrl}/api/pusher/webhook`, event_types: ["channel_occupied", "channel_vacated"] }];
}
