/**
 * An application's `downstream` settings (reference §3.3) -> its HTTP connection manager fields and
 * the TLS transport socket of its filter chain. TLS material travels as SDS Secret resources over
 * the same ADS stream (see docs/decisions.md), so a certificate rotation is one small push and the
 * listener never holds a private key.
 */
import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { CidrRangeSchema } from "../../gen/envoy/config/core/v3/address_pb.js";
import { type TransportSocket, TransportSocketSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { ApiVersion } from "../../gen/envoy/config/core/v3/config_source_pb.js";
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ForwardClientCertDetails,
  type HttpConnectionManagerSchema,
} from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { CustomHeaderConfigSchema } from "../../gen/envoy/extensions/http/original_ip_detection/custom_header/v3/custom_header_pb.js";
import { XffConfigSchema } from "../../gen/envoy/extensions/http/original_ip_detection/xff/v3/xff_pb.js";
import {
  type CertificateValidationContextSchema,
  SubjectAltNameMatcher_SanType,
  TlsParameters_TlsProtocol,
} from "../../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js";
import { type Secret, SecretSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js";
import { DownstreamTlsContextSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js";
import type { Model } from "../model/model.ts";
import { resolveClientValidation, resolveServerCertificate } from "../model/settings-references.ts";
import {
  DEFAULT_DOWNSTREAM,
  type DownstreamSettings,
  type DownstreamTls,
  type HttpProtocolChoice,
  type SanMatch,
  type SidecarGateway,
  type StringMatch,
  type TlsParameters,
  type XfccMode,
} from "../model/types.ts";
import { durationOf } from "./duration.ts";

/** The plain-object form of a message's init shape (spreadable, unlike a message). */
type Init<Desc extends DescMessage> = Exclude<MessageInitShape<Desc>, MessageShape<Desc>>;
type HcmInit = Init<typeof HttpConnectionManagerSchema>;

/** What an application's downstream settings add to its filter chain. */
export interface DownstreamChain {
  /** HCM fields, applied over the listener's fixed ones. */
  readonly hcm: HcmInit;
  /** The TLS transport socket of the filter chain, when TLS is enabled. */
  readonly transportSocket?: TransportSocket;
  /** The SDS secrets the transport socket names. */
  readonly secrets: readonly Secret[];
}

/** Name of the SDS secret holding a Kubernetes TLS Secret's certificate and key. */
export function serverCertificateSecretName(namespace: string, secret: string): string {
  return `tls/${namespace}/${secret}`;
}

/** Name of the SDS secret holding an application's client CA bundle and CRLs. */
export function clientValidationSecretName(gateway: SidecarGateway, containerPort: number): string {
  return `client-ca/${gateway.metadata.namespace}/${gateway.metadata.name}/${containerPort}`;
}

/**
 * Translates `app.downstream` (the API defaults when absent) of application `appIndex`. Throws
 * MicrogatewayError naming the field when a referenced Secret is missing or unfit.
 */
export function downstreamChain(model: Model, gateway: SidecarGateway, appIndex: number): DownstreamChain {
  const app = gateway.spec.applications[appIndex]!;
  const d: DownstreamSettings = app.downstream ?? DEFAULT_DOWNSTREAM;
  const hcm: HcmInit = {
    codecType: codecOf(d.protocol),
    ...(d.protocol.kind !== "http1" && d.protocol.allowConnect
      ? { http2ProtocolOptions: { allowConnect: true } }
      : {}),
    normalizePath: d.requestNormalizations.normalizePath,
    mergeSlashes: d.requestNormalizations.mergeSlashes,
    ...remoteIPFields(d),
    // Envoy counts KiB; rounding up never rejects headers the API allows.
    maxRequestHeadersKb: Math.ceil(d.headersLengthBytes / 1024),
    requestHeadersTimeout: durationOf(d.timeouts.requestHeadersMs),
    streamIdleTimeout: durationOf(d.timeouts.idleMs),
    commonHttpProtocolOptions: {
      idleTimeout: durationOf(d.timeouts.idleMs),
      // Envoy reads an explicit 0 as "no limit" for idle timeouts but not for max_stream_duration.
      ...(d.timeouts.maxDurationMs > 0 ? { maxStreamDuration: durationOf(d.timeouts.maxDurationMs) } : {}),
    },
    forwardClientCertDetails: xfccOf(d.tls?.xfcc ?? "Sanitize"),
    ...(d.tls && (d.tls.xfcc === "AppendAndForward" || d.tls.xfcc === "SanitizeAndSet")
      ? { setCurrentClientCertDetails: { subject: true, uri: true, dns: true } }
      : {}),
  };
  if (d.tls === undefined) return { hcm, secrets: [] };
  const { transportSocket, secrets } = tlsTransportSocket(model, gateway, appIndex, d.tls, d.protocol);
  return { hcm, transportSocket, secrets };
}

function codecOf(protocol: HttpProtocolChoice): HttpConnectionManager_CodecType {
  if (protocol.kind === "http1") return HttpConnectionManager_CodecType.HTTP1;
  if (protocol.kind === "http2") return HttpConnectionManager_CodecType.HTTP2;
  return HttpConnectionManager_CodecType.AUTO;
}

/**
 * xff without ranges: Envoy's own XFF handling (the n-th address from the right). xff with ranges
 * and customHeader: an original IP detection extension, which Envoy forbids together with
 * use_remote_address. connectionIP: the TCP peer.
 */
function remoteIPFields(d: DownstreamSettings): HcmInit {
  const r = d.remoteIP;
  if (r.kind === "connectionIP") return { useRemoteAddress: true, xffNumTrustedHops: 0 };
  if (r.kind === "xff" && r.trustedCIDRRanges.length === 0) {
    return { useRemoteAddress: true, xffNumTrustedHops: r.numTrustedHops };
  }
  if (r.kind === "xff") {
    return {
      useRemoteAddress: false,
      originalIpDetectionExtensions: [
        {
          name: "envoy.http.original_ip_detection.xff",
          typedConfig: anyPack(XffConfigSchema, xffWithTrustedCidrs(r.trustedCIDRRanges)),
        },
      ],
    };
  }
  return {
    useRemoteAddress: false,
    originalIpDetectionExtensions: [
      {
        name: "envoy.http.original_ip_detection.custom_header",
        typedConfig: anyPack(
          CustomHeaderConfigSchema,
          create(CustomHeaderConfigSchema, {
            headerName: r.headerName,
            ...(r.required ? { rejectWithStatus: { code: 403 } } : {}),
          }),
        ),
      },
    ],
  };
}

/**
 * XffConfig with `xff_trusted_cidrs` (field 2, Envoy >= 1.31). The protos we generate from
 * (@grpc/grpc-js-xds) predate the field, so it is written as an unknown field: the bytes are what
 * a newer XffConfig would encode, `XffTrustedCidrs { repeated CidrRange cidrs = 1; }`.
 */
export function xffWithTrustedCidrs(cidrs: readonly string[]) {
  const inner = new BinaryWriter();
  for (const cidr of cidrs) {
    const slash = cidr.lastIndexOf("/");
    const range = create(CidrRangeSchema, {
      addressPrefix: cidr.slice(0, slash),
      prefixLen: Number(cidr.slice(slash + 1)),
    });
    inner.tag(1, WireType.LengthDelimited).bytes(toBinary(CidrRangeSchema, range));
  }
  const config = create(XffConfigSchema);
  config.$unknown = [
    { no: 2, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(inner.finish()).finish() },
  ];
  return config;
}

function xfccOf(mode: XfccMode): HttpConnectionManager_ForwardClientCertDetails {
  const E = HttpConnectionManager_ForwardClientCertDetails;
  switch (mode) {
    case "Sanitize":
      return E.SANITIZE;
    case "ForwardOnly":
      return E.FORWARD_ONLY;
    case "AppendAndForward":
      return E.APPEND_FORWARD;
    case "SanitizeAndSet":
      return E.SANITIZE_SET;
    case "AlwaysForwardOnly":
      return E.ALWAYS_FORWARD_ONLY;
  }
}

/** Envoy's TLS parameters for the API's versions and ciphers. */
export function tlsParams(t: TlsParameters) {
  return {
    ...(t.minimum ? { tlsMinimumProtocolVersion: TlsParameters_TlsProtocol[t.minimum] } : {}),
    ...(t.maximum ? { tlsMaximumProtocolVersion: TlsParameters_TlsProtocol[t.maximum] } : {}),
    ...(t.ciphers ? { cipherSuites: [...t.ciphers] } : {}),
  };
}

/** ALPN offered to clients: what the codec speaks. */
function alpnOf(protocol: HttpProtocolChoice): string[] {
  if (protocol.kind === "http1") return ["http/1.1"];
  if (protocol.kind === "http2") return ["h2"];
  return ["h2", "http/1.1"];
}

const ADS = { configSourceSpecifier: { case: "ads" as const, value: {} }, resourceApiVersion: ApiVersion.V3 };

function tlsTransportSocket(
  model: Model,
  gateway: SidecarGateway,
  appIndex: number,
  tls: DownstreamTls,
  protocol: HttpProtocolChoice,
): { transportSocket: TransportSocket; secrets: Secret[] } {
  const app = gateway.spec.applications[appIndex]!;
  const { keyPair } = resolveServerCertificate(model, gateway, appIndex, tls.secretRef);
  const certName = serverCertificateSecretName(gateway.metadata.namespace, tls.secretRef.name);
  const secrets: Secret[] = [
    create(SecretSchema, {
      name: certName,
      type: {
        case: "tlsCertificate",
        value: {
          certificateChain: { specifier: { case: "inlineString", value: keyPair.certificateChain } },
          privateKey: { specifier: { case: "inlineString", value: keyPair.privateKey } },
        },
      },
    }),
  ];
  const client = tls.clientCertificate;
  let validation: MessageInitShape<typeof DownstreamTlsContextSchema>["commonTlsContext"] = {};
  if (client.kind !== "ignored") {
    const pem = resolveClientValidation(model, gateway, appIndex, client.kind, client.trustedCA, client.crl);
    const validationName = clientValidationSecretName(gateway, app.containerPort);
    const sdsPart: Init<typeof CertificateValidationContextSchema> = {
      ...(pem.trustedCA ? { trustedCa: { specifier: { case: "inlineString", value: pem.trustedCA } } } : {}),
      ...(pem.crl ? { crl: { specifier: { case: "inlineString", value: pem.crl } } } : {}),
      ...(client.crl?.validationMode === "VerifyLeafCertOnly" ? { onlyVerifyLeafCertCrl: true } : {}),
      ...(client.trustedCA ? { maxVerifyDepth: client.trustedCA.verificationDepth } : {}),
    };
    secrets.push(
      create(SecretSchema, { name: validationName, type: { case: "validationContext", value: sdsPart } }),
    );
    const pinning = client.kind === "required" ? client.certificatePinning : undefined;
    validation = {
      validationContextType: {
        case: "combinedValidationContext",
        value: {
          defaultValidationContext: {
            ...(client.kind === "required" && client.allowedSANs
              ? { matchTypedSubjectAltNames: client.allowedSANs.map(sanMatcher) }
              : {}),
            ...(pinning?.allowedHashes ? { verifyCertificateHash: [...pinning.allowedHashes] } : {}),
            ...(pinning?.allowedSPKIs ? { verifyCertificateSpki: [...pinning.allowedSPKIs] } : {}),
          },
          validationContextSdsSecretConfig: { name: validationName, sdsConfig: ADS },
        },
      },
    };
  }
  const context = create(DownstreamTlsContextSchema, {
    commonTlsContext: {
      tlsParams: tlsParams(tls),
      tlsCertificateSdsSecretConfigs: [{ name: certName, sdsConfig: ADS }],
      alpnProtocols: alpnOf(protocol),
      ...validation,
    },
    requireClientCertificate: client.kind === "required",
  });
  return {
    transportSocket: create(TransportSocketSchema, {
      name: "envoy.transport_sockets.tls",
      configType: { case: "typedConfig", value: anyPack(DownstreamTlsContextSchema, context) },
    }),
    secrets,
  };
}

function sanMatcher(san: SanMatch) {
  const T = SubjectAltNameMatcher_SanType;
  const sanType = { DNS: T.DNS, Email: T.EMAIL, URI: T.URI, IPAddress: T.IP_ADDRESS }[san.sanType];
  return { sanType, matcher: stringMatcherOf(san.matcher) };
}

/** The API's StringMatch as Envoy's type.matcher.v3.StringMatcher. */
function stringMatcherOf(m: StringMatch) {
  const ignoreCase = m.ignoreCase;
  switch (m.kind) {
    case "regex":
      return {
        matchPattern: {
          case: "safeRegex" as const,
          value: { regex: ignoreCase ? `(?i:${m.value})` : m.value },
        },
      };
    default:
      return { matchPattern: { case: m.kind, value: m.value }, ignoreCase };
  }
}
