// Every load is bounded in count and in time; these are the knobs per mode.

export type Sizes = {
  name: "full" | "quick" | "tiny";
  /** Section 1: concurrent senders, each sending in a closed loop to its own 10-member group. */
  senders: number[];
  sendSeconds: number;
  sendMaxPerSender: number;
  /** Section 1: the latency run at a fixed modest rate. */
  latencyMessages: number;
  latencyRate: number;
  latencyGroupSize: number;
  /** Section 2: group sizes and how many pusher-js clients stay connected. */
  fanoutGroups: number[];
  fanoutClients: number;
  fanoutMessages: number;
  fanoutRate: number;
  /** Section 3: the list user is also the sync user in many groups. */
  listConversations: number;
  syncGroups: number;
  receiptsGroup: number;
  receiptsMessages: number;
  readRepeats: number;
  /** Section 4. */
  reconnectClients: number;
  reconnectConversations: number;
  /** Members per reconnect group: the connected clients plus offline members. */
  reconnectGroupSize: number;
  /** Section 6. */
  ceilingSeconds: number;
  ceilingConnections: number;
  /** Upper bound for waiting on deliveries and subscriptions. */
  waitSeconds: number;
};

export const SIZES: Record<Sizes["name"], Sizes> = {
  full: {
    name: "full",
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
    ceilingSeconds: 5,
    ceilingConnections: 16,
    waitSeconds: 60,
  },
  quick: {
    name: "quick",
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
    ceilingSeconds: 2,
    ceilingConnections: 16,
    waitSeconds: 30,
  },
  tiny: {
    name: "tiny",
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
    ceilingSeconds: 0.5,
    ceilingConnections: 4,
    waitSeconds: 20,
  },
};
