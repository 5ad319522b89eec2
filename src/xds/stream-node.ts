import { MicrogatewayError } from "../errors.ts";

/**
 * The node id a stream serves: taken (and authorized) from the first request, which must carry
 * it; later requests may omit it (Envoy's `set_node_on_first_message_only`) but may not change it.
 * Returns the stream's node id; throws MicrogatewayError("InvalidArgument") naming the problem.
 */
export function streamNode(
  current: string | undefined,
  requestNodeId: string | undefined,
  requestKind: "DeltaDiscoveryRequest" | "DiscoveryRequest",
  authorize: (nodeId: string) => void,
): string {
  if (current === undefined) {
    if (!requestNodeId)
      throw new MicrogatewayError("InvalidArgument", `the first ${requestKind} must carry node.id`);
    authorize(requestNodeId);
    return requestNodeId;
  }
  if (requestNodeId && requestNodeId !== current) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `node.id changed on an open stream from "${current}" to "${requestNodeId}"`,
    );
  }
  return current;
}
