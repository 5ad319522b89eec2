import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";

/** A duration in milliseconds (the model's unit) as google.protobuf.Duration, e.g. 1500 -> 1s 500000000ns. */
export function durationOf(ms: number): Duration {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  return create(DurationSchema, {
    seconds: totalNanos / 1_000_000_000n,
    nanos: Number(totalNanos % 1_000_000_000n),
  });
}
