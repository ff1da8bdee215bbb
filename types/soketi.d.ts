// Soketi ships no types; Chorus uses only its Server class (see server/realtime/soketi.ts).
declare module "@soketi/soketi" {
  export const Server: unknown;
}
