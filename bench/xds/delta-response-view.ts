/**
 * Reads only what a simulated engine needs from a DeltaDiscoveryResponse: type, nonce, resource
 * names and versions, removals. The packed resources (40 KB listeners) are skipped, not decoded:
 * a full `fromBinary` would make the benchmark's client side measure protobuf-es, not the server.
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** The parts of a DeltaDiscoveryResponse the engines act on. */
export interface DeltaResponseView {
  typeUrl: string;
  nonce: string;
  /** `resources[i].name` and `resources[i].version`, index-aligned. */
  readonly names: string[];
  readonly versions: string[];
  readonly removed: string[];
}

// Field numbers from envoy/service/discovery/v3/discovery.proto.
const RESPONSE_RESOURCES = 2;
const RESPONSE_TYPE_URL = 4;
const RESPONSE_NONCE = 5;
const RESPONSE_REMOVED_RESOURCES = 6;
const RESOURCE_VERSION = 1;
const RESOURCE_NAME = 3;

/** Decodes the view of one encoded DeltaDiscoveryResponse; throws on malformed input. */
export function readDeltaResponse(bytes: Uint8Array): DeltaResponseView {
  const view: DeltaResponseView = { typeUrl: "", nonce: "", names: [], versions: [], removed: [] };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (wireType !== WireType.LengthDelimited) {
      r.skip(wireType, field);
      continue;
    }
    switch (field) {
      case RESPONSE_RESOURCES:
        readResource(r, view);
        break;
      case RESPONSE_TYPE_URL:
        view.typeUrl = r.string();
        break;
      case RESPONSE_NONCE:
        view.nonce = r.string();
        break;
      case RESPONSE_REMOVED_RESOURCES:
        view.removed.push(r.string());
        break;
      default:
        r.skip(wireType, field);
    }
  }
  return view;
}

function readResource(r: BinaryReader, view: DeltaResponseView): void {
  const end = r.uint32() + r.pos;
  if (end > r.len) throw new Error("DeltaDiscoveryResponse.resources: truncated Resource");
  let name = "";
  let version = "";
  while (r.pos < end) {
    const [field, wireType] = r.tag();
    if (field === RESOURCE_NAME && wireType === WireType.LengthDelimited) name = r.string();
    else if (field === RESOURCE_VERSION && wireType === WireType.LengthDelimited) version = r.string();
    else r.skip(wireType, field);
  }
  view.names.push(name);
  view.versions.push(version);
}
