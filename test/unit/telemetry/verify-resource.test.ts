// The browser resource attribute (src/telemetry/lib/browser-name.ts) from real user-agent strings
// and client hints, and where verification's incidents go (src/telemetry/lib/incidents.ts).
import { describe, expect, it } from 'vitest';
import { browserName } from '../../../src/telemetry/lib/browser-name';
import { incidentsUrl, postIncident } from '../../../src/telemetry/lib/incidents';
import { resourceAttributes } from '../../../src/telemetry/lib/resource-attributes';
import type { VerifyIncident } from '../../../src/types';

const UA = {
  chrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.7000.0 Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.3485.54',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0',
  safari: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Safari/605.1.15',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Mobile/15E148 Safari/604.1',
};

describe('browserName', () => {
  it('names the browser and major version from client hints first, then the user agent', () => {
    const brands = [
      { brand: 'Not)A;Brand', version: '8' },
      { brand: 'Chromium', version: '156' },
      { brand: 'Google Chrome', version: '156' },
    ];
    expect(browserName({ userAgent: UA.chrome, userAgentData: { brands } })).toBe('Chrome 156');
    expect(browserName({ userAgentData: { brands: [...brands, { brand: 'Microsoft Edge', version: '140' }] } })).toBe('Edge 140');
    expect(browserName({ userAgent: UA.chrome })).toBe('Chrome 156');
    expect(browserName({ userAgent: UA.headless })).toBe('Chromium 156');
    expect(browserName({ userAgent: UA.edge })).toBe('Edge 140');
    expect(browserName({ userAgent: UA.firefox })).toBe('Firefox 141');
    expect(browserName({ userAgent: UA.safari })).toBe('Safari 18');
    expect(browserName({ userAgent: UA.iphone })).toBe('Safari 18');
    expect(browserName({ userAgent: 'curl/8.0' })).toBeUndefined();
    expect(browserName(undefined)).toBeUndefined();
  });

  it('rides along as the webq8.browser resource attribute unless the app sets it', () => {
    expect(resourceAttributes({ browser: 'Firefox 141' }, 1)['webq8.browser']).toBe('Firefox 141');
  });
});

describe('verification incidents', () => {
  it('go to <endpoint>/api/verify/incidents with the page resource filled in, and a failed send never throws', async () => {
    expect(incidentsUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/api/verify/incidents');
    expect(incidentsUrl('https://c.example/otel/v1/metrics/')).toBe('https://c.example/otel/api/verify/incidents');
    const sent: { url: string; body: string; headers: Record<string, string> }[] = [];
    const incident = {
      kind: 'verify',
      rule: 'numerics',
      scope: 'client',
      at: 'now',
      model: 'm',
      output: 'y',
      metric: 'relL2',
      value: 1,
      tolerance: 0.001,
      backend: 'webgpu',
      checked: 1,
      diverged: 1,
    } as VerifyIncident;
    const fetch = async (url: string, init: { body: string; headers: Record<string, string> }) => {
      sent.push({ url, body: init.body, headers: init.headers });
      return { status: 202, headers: { get: () => null } };
    };
    await postIncident('u', incident, { adapterVendor: 'acme', browser: 'Firefox 141', webq8Version: '0.1.0' }, { fetch, headers: { 'x-api-key': 'k' } });
    expect(JSON.parse(sent[0]!.body)).toEqual({ ...incident, adapterVendor: 'acme', browser: 'Firefox 141', webq8Version: '0.1.0' });
    expect(sent[0]!.headers).toEqual({ 'x-api-key': 'k', 'content-type': 'application/json' });
    await expect(postIncident('u', incident, {}, { fetch: () => Promise.reject(new Error('offline')) })).resolves.toBeUndefined();
  });
});
