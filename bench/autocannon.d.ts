// The part of autocannon (9.x) the bench uses; the package ships no types.
declare module "autocannon" {
  type Options = {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    pipelining?: number;
  };
  type Histogram = { average: number; p50: number; p99: number; max: number; total: number };
  type Result = {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    "2xx": number;
    latency: Histogram;
    requests: Histogram & { sent: number };
  };
  type Instance = PromiseLike<Result> & {
    on(event: "response", fn: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
    stop(): void;
  };
  function autocannon(options: Options): Instance;
  export default autocannon;
}
