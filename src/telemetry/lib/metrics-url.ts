/** `endpoint` → the metrics URL: `/v1/metrics` is appended unless the URL already ends with it. */
export function metricsUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return /\/v1\/metrics$/.test(trimmed) ? trimmed : `${trimmed}/v1/metrics`;
}
