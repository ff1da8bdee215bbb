// Every load is bounded in count and in time; these are the knobs per mode.

export type Sizes = {
  name: "full" | "quick" | "tiny";
  /** Section 1 (HTTP only): autocannon connections, and seconds per endpoint after a warm-up. */
  floorConnections: number;
  floorSeconds: number;
  floorWarmupSeconds: number;
  /** Section 2: concurrent senders, each sending in a closed loop to its own 10-member group. */
  senders: number[];
  sendSeconds: number;
  sendMaxPerSender: number;
  /** Section 2: the latency run at a fixed modest rate. */
  latencyMessages: number;
  latencyRate: number;
  latencyGroupSize: number;
  /** Section 3: group sizes and how many pusher-js clients stay connected. */
  fanoutGroups: number[];
  fanoutClients: number;
  fanoutMessages: number;
  fanoutRate: number;
  /** Section 4: the list user is also the sync user in many groups. */
  listConversations: number;
  syncGroups: number;
  receiptsGroup: number;
  receiptsMessages: number;
  readRepeats: number;
  /** Section 5. */
  reconnectClients: number;
  reconnectConversations: number;
  /** Members per reconnect group: the connected clients plus offline members. */
  reconnectGroupSize: number;
  /** Section 6: users heartbeating, each once per `heartbeatIntervalSeconds` (the browser's interval, or compressed). */
  heartbeatUsers: number;
  heartbeatIntervalSeconds: number;
  /** The group receiving messages meanwhile, its members connected over pusher-js (as many as `heartbeatConnected`). */
  heartbeatGroupSize: number;
  heartbeatConnected: number;
  heartbeatMessageRate: number;
  /** Seconds per measured window (idle, messages, heartbeats, both). */
  heartbeatWindowSeconds: number;
  /** Section 10: one group, the members with push on (offline), and other users sending at a fixed rate meanwhile. */
  pushGroupSize: number;
  pushSubscribed: number;
  pushOtherSenders: number;
  pushOtherRate: number;
  /** Section 8. */
  ceilingSeconds: number;
  ceilingConnections: number;
  /** Section 9 (HTTP only): idle seconds before the embedded default's memory is read. */
  footprintIdleSeconds: number;
  /** Section 10: messages seeded across conversations the searcher is in, and calls per query. */
  searchMessages: number;
  searchConversations: number;
  searchRepeats: number;
  /** Upper bound for waiting on deliveries and subscriptions. */
  waitSeconds: number;
};

export const SIZES: Record<Sizes["name"], Sizes> = {
  full: {
    name: "full",
    floorConnections: 16,
    floorSeconds: 5,
    floorWarmupSeconds: 1,
    senders: [10, 50, 200],
    sendSeconds: 10,
    sendMaxPerSender: 500,
    latencyMessages: 200,
    latencyRate: 10,
    latencyGroupSize: 10,
    fanoutGroups: [10, 1000, 10000],
    fanoutClients: 2000,
    fanoutMessages: 20,
    fanoutRate: 2,
    listConversations: 1000,
    syncGroups: 10,
    receiptsGroup: 10000,
    receiptsMessages: 500,
    readRepeats: 30,
    reconnectClients: 500,
    reconnectConversations: 100,
    reconnectGroupSize: 500,
    heartbeatUsers: 10000,
    heartbeatIntervalSeconds: 45,
    heartbeatGroupSize: 1000,
    heartbeatConnected: 1000,
    heartbeatMessageRate: 20,
    heartbeatWindowSeconds: 20,
    pushGroupSize: 10000,
    pushSubscribed: 2000,
    pushOtherSenders: 10,
    pushOtherRate: 20,
    ceilingSeconds: 5,
    ceilingConnections: 16,
    footprintIdleSeconds: 10,
    searchMessages: 1_000_000,
    searchConversations: 1000,
    searchRepeats: 50,
    waitSeconds: 60,
  },
  quick: {
    name: "quick",
    floorConnections: 16,
    floorSeconds: 2,
    floorWarmupSeconds: 0.5,
    senders: [10, 50, 200],
    sendSeconds: 2,
    sendMaxPerSender: 200,
    latencyMessages: 30,
    latencyRate: 10,
    latencyGroupSize: 10,
    fanoutGroups: [10, 1000, 10000],
    fanoutClients: 300,
    fanoutMessages: 6,
    fanoutRate: 4,
    listConversations: 1000,
    syncGroups: 10,
    receiptsGroup: 10000,
    receiptsMessages: 200,
    readRepeats: 15,
    reconnectClients: 100,
    reconnectConversations: 100,
    reconnectGroupSize: 500,
    heartbeatUsers: 10000,
    heartbeatIntervalSeconds: 45,
    heartbeatGroupSize: 1000,
    heartbeatConnected: 300,
    heartbeatMessageRate: 20,
    heartbeatWindowSeconds: 6,
    pushGroupSize: 10000,
    pushSubscribed: 2000,
    pushOtherSenders: 10,
    pushOtherRate: 20,
    ceilingSeconds: 2,
    ceilingConnections: 16,
    footprintIdleSeconds: 10,
    searchMessages: 100_000,
    searchConversations: 1000,
    searchRepeats: 20,
    waitSeconds: 30,
  },
  tiny: {
    name: "tiny",
    floorConnections: 4,
    floorSeconds: 0.5,
    floorWarmupSeconds: 0.2,
    senders: [2, 4],
    sendSeconds: 1,
    sendMaxPerSender: 10,
    latencyMessages: 5,
    latencyRate: 20,
    latencyGroupSize: 3,
    fanoutGroups: [3, 10, 30],
    fanoutClients: 6,
    fanoutMessages: 3,
    fanoutRate: 10,
    listConversations: 20,
    syncGroups: 2,
    receiptsGroup: 30,
    receiptsMessages: 60,
    readRepeats: 3,
    reconnectClients: 4,
    reconnectConversations: 10,
    reconnectGroupSize: 4,
    heartbeatUsers: 20,
    heartbeatIntervalSeconds: 2,
    heartbeatGroupSize: 10,
    heartbeatConnected: 4,
    heartbeatMessageRate: 10,
    heartbeatWindowSeconds: 1,
    pushGroupSize: 30,
    pushSubscribed: 8,
    pushOtherSenders: 2,
    pushOtherRate: 20,
    ceilingSeconds: 0.5,
    ceilingConnections: 4,
    footprintIdleSeconds: 1,
    searchMessages: 20_000,
    searchConversations: 20,
    searchRepeats: 5,
    waitSeconds: 20,
  },
};
