/** A sentence for people from a tRPC/network error: the first zod issue, else the server's message. */
export function describeError(error: unknown, fallback = "Something went wrong. Please try again."): string {
  if (!error) return fallback;
  if (typeof error === "object" && "data" in error) {
    const data = (error as { data?: { zodError?: { fieldErrors?: Record<string, string[]>; formErrors?: string[] } } })
      .data;
    const zod = data?.zodError;
    const first = zod?.formErrors?.[0] ?? Object.values(zod?.fieldErrors ?? {}).find((list) => list?.length)?.[0];
    if (first) return first;
  }
  if (error instanceof Error) {
    // Input validation messages arrive as a JSON list of issues: show the first one.
    if (error.message.startsWith("[")) {
      try {
        const issues = JSON.parse(error.message) as { message?: string }[];
        if (issues[0]?.message) return issues[0].message;
      } catch {
        return fallback;
      }
    }
    if (error.message === "Failed to fetch") return "Can't reach the server. Check your connection and try again.";
    return error.message || fallback;
  }
  return fallback;
}
