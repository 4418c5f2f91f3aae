// @ts-check
// Prometheus remote-write 1.0 messages (prometheus/prompb types.proto + remote.proto, the subset a
// writer needs), encoded with protobufjs and compressed with snappy's block format, as the
// protocol requires (framed snappy is refused).
//
// Field numbers are the wire contract: they must match upstream's, which is why the definitions
// are spelled out here rather than loaded from a file at run time.
import protobuf from 'protobufjs';
import { compressSync, uncompressSync } from 'snappy';

const PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; reserved 3; repeated Histogram histograms = 4; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }

message MetricMetadata {
  enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}

// A native histogram: integer counts as deltas (the float variants are for gauge histograms).
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
}
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const WriteRequest = root.lookupType('prometheus.WriteRequest');

/** `Histogram.ResetHint`. */
export const RESET_HINT = Object.freeze({ UNKNOWN: 0, YES: 1, NO: 2, GAUGE: 3 });
/** `MetricMetadata.MetricType`. */
export const METRIC_TYPE = Object.freeze({ COUNTER: 1, GAUGE: 2, HISTOGRAM: 3 });

/**
 * @typedef {{ name: string, value: string }} Label
 * @typedef {{ offset: number, length: number }} BucketSpan
 * @typedef {{ count_int: number, sum: number, schema: number, zero_threshold: number, zero_count_int: number,
 *   positive_spans: BucketSpan[], positive_deltas: number[], reset_hint: number, timestamp: number }} NativeHistogram
 * @typedef {{ labels: Label[], samples?: { value: number, timestamp: number }[], histograms?: NativeHistogram[] }} TimeSeries
 * @typedef {{ type: number, metric_family_name: string, help: string, unit: string }} MetricMetadata
 * @typedef {{ timeseries: TimeSeries[], metadata?: MetricMetadata[] }} WriteRequestObject
 */

/**
 * The snappy-compressed protobuf body of a remote-write POST.
 * @param {WriteRequestObject} request
 * @returns {Uint8Array<ArrayBuffer>} (a Buffer over a plain ArrayBuffer, which fetch takes as a body)
 */
export function encodeWriteRequest(request) {
  return /** @type {Uint8Array<ArrayBuffer>} */ (compressSync(Buffer.from(WriteRequest.encode(WriteRequest.fromObject(request)).finish())));
}

/** Decodes a body made by {@link encodeWriteRequest} (tests, fake receivers). @param {Buffer} body @returns {WriteRequestObject} */
export function decodeWriteRequest(body) {
  const message = WriteRequest.decode(/** @type {Buffer} */ (uncompressSync(body)));
  return /** @type {WriteRequestObject} */ (WriteRequest.toObject(message, { longs: Number, defaults: true, oneofs: false }));
}

/** Headers of a remote-write 1.0 POST. */
export const REMOTE_WRITE_HEADERS = Object.freeze({
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': 'webq8-collector',
});
