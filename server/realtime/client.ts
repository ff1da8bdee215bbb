// Moved to lib/realtime-client.ts (browser code); kept until bench/target.ts imports from there.
export * from "@/lib/realtime-client";
