// One tRPC call that is not batched (GET for a query, POST for a mutation) is
// most of the API's traffic: acknowledgements, heartbeats, sends. tRPC's
// resolveResponse serves it through fetch's Request/Response, four
// AbortSignals and web streams, which cost more CPU than the call itself.
// Here the same call is answered from tRPC's own parts (procedure lookup,
// the procedure with its middlewares and input parsing, getErrorShape, the
// transformer, getHTTPStatusCode), so answers are the same bytes
// (trpc-single.test.ts compares them); anything else goes to resolveResponse.
import type { AnyTRPCRouter } from "@trpc/server";
import {
  getErrorShape,
  getHTTPStatusCode,
  getProcedureAtPath,
  getTRPCErrorFromUnknown,
  TRPCError,
  transformTRPCResponse,
} from "@trpc/server/unstable-core-do-not-import";

export type SingleCall = {
  method: string;
  path: string;
  /** The `input` query parameter of a GET, undecoded; null when absent. */
  queryInput: string | null;
  /** The body of a POST. */
  body: string | undefined;
};

export type SingleAnswer = { status: number; body: string };

const SIMPLE_PATH = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

/** Whether the lean path serves this request as resolveResponse would; otherwise resolveResponse must. */
export function isSingleCall(
  method: string | undefined,
  path: string,
  search: URLSearchParams,
  headers: { "trpc-accept"?: unknown; accept?: unknown; "content-type"?: unknown },
) {
  const accept = headers.accept;
  const contentType = headers["content-type"];
  return (
    (method === "GET" || method === "POST") &&
    SIMPLE_PATH.test(path) &&
    !search.has("batch") &&
    !search.has("connectionParams") &&
    // Streaming answers (jsonl, SSE) are resolveResponse's.
    headers["trpc-accept"] === undefined &&
    !(typeof accept === "string" && accept.split(",").some((t) => t.trim() === "application/jsonl")) &&
    // JSON only (POSTs of anything else are refused before this); form data and octet streams are resolveResponse's.
    (contentType === undefined || (typeof contentType === "string" && contentType.startsWith("application/json")))
  );
}

/** Answers one unbatched call exactly as tRPC's resolveResponse does. */
export async function resolveSingleCall<TContext>(
  router: AnyTRPCRouter,
  call: SingleCall,
  ctx: TContext,
): Promise<SingleAnswer | null> {
  const config = router._def._config;
  const procedure = await getProcedureAtPath(router, call.path);
  const type = procedure?._def.type ?? "unknown";
  // Subscriptions are streams: resolveResponse's.
  if (type === "subscription") return null;

  // Parsed when the procedure asks, as resolveResponse does: a malformed input fails inside the call.
  let input: unknown;
  let inputRead = false;
  const getRawInput = async () => {
    if (!inputRead) {
      try {
        let raw: unknown;
        if (call.method === "GET") {
          if (call.queryInput) raw = JSON.parse(call.queryInput);
        } else raw = JSON.parse(call.body ?? "");
        input = raw === undefined ? undefined : config.transformer.input.deserialize(raw);
      } catch (cause) {
        // As tRPC's input reader: anything but a TRPCError becomes BAD_REQUEST.
        if (cause instanceof TRPCError) throw cause;
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: cause instanceof Error ? cause.message : "Invalid input",
          cause,
        });
      }
      inputRead = true;
    }
    return input;
  };

  let json: { result: { data: unknown } } | { error: unknown };
  try {
    if (!procedure) throw new TRPCError({ code: "NOT_FOUND", message: `No procedure found on path "${call.path}"` });
    const accepted = type === "mutation" ? "POST" : "GET";
    if (call.method !== accepted) {
      throw new TRPCError({
        code: "METHOD_NOT_SUPPORTED",
        message: `Unsupported ${call.method}-request to ${type} procedure at path "${call.path}"`,
      });
    }
    const data = await procedure({
      path: call.path,
      getRawInput,
      ctx,
      type: procedure._def.type,
      signal: undefined,
      batchIndex: 0,
    });
    json = { result: { data } };
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    json = {
      error: getErrorShape({ config, ctx, error, input: inputRead ? input : undefined, path: call.path, type }),
    };
  }
  return {
    status: getHTTPStatusCode(json as never),
    body: JSON.stringify(transformTRPCResponse(config, json as never)),
  };
}
