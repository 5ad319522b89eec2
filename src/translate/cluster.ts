import { create } from "@bufbuild/protobuf";
import {
  type Cluster,
  Cluster_DiscoveryType,
  ClusterSchema,
} from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { SocketAddress_Protocol } from "../../gen/envoy/config/core/v3/address_pb.js";
import { upstreamClusterName } from "./names.ts";

/** Where the engine forwards an application's traffic (normally 127.0.0.1:<containerPort>). */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
}

/** A static cluster to one application container of the pod. */
export function upstreamCluster(containerPort: number, to: UpstreamAddress): Cluster {
  const name = upstreamClusterName(containerPort);
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STATIC },
    connectTimeout: { seconds: 5n },
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: "endpoint",
                value: {
                  address: {
                    address: {
                      case: "socketAddress",
                      value: {
                        protocol: SocketAddress_Protocol.TCP,
                        address: to.host,
                        portSpecifier: { case: "portValue", value: to.port },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      ],
    },
  });
}
