/**
 * Reads only what a simulated state-of-the-world engine needs from a DiscoveryResponse: version,
 * type, nonce and how many resources it holds. The packed resources are skipped, not decoded, for
 * the same reason as in delta-response-view.ts: the client side must not measure protobuf-es.
 *
 * @example
 *   const view = readSotwResponse(bytes); // { versionInfo: "3", typeUrl: "type.googleapis.com/...", nonce: "7", resources: 1 }
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** The parts of a DiscoveryResponse a state-of-the-world engine acts on. */
export interface SotwResponseView {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  /** Number of entries in `resources` (the whole set of the type). */
  resources: number;
}

// Field numbers from envoy/service/discovery/v3/discovery.proto (DiscoveryResponse).
const VERSION_INFO = 1;
const RESOURCES = 2;
const TYPE_URL = 4;
const NONCE = 5;

/** Decodes the view of one encoded DiscoveryResponse; throws on malformed input. */
export function readSotwResponse(bytes: Uint8Array): SotwResponseView {
  const view: SotwResponseView = { versionInfo: "", typeUrl: "", nonce: "", resources: 0 };
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (wireType !== WireType.LengthDelimited) {
      r.skip(wireType, field);
      continue;
    }
    switch (field) {
      case VERSION_INFO:
        view.versionInfo = r.string();
        break;
      case TYPE_URL:
        view.typeUrl = r.string();
        break;
      case NONCE:
        view.nonce = r.string();
        break;
      case RESOURCES:
        view.resources++;
        r.skip(wireType, field);
        break;
      default:
        r.skip(wireType, field);
    }
  }
  return view;
}
