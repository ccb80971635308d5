import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from './security-headers.js';

describe("the apps' Content-Security-Policy", () => {
  it("lets the pages connect to the media server's own origin, ws or wss, and nowhere else", () => {
    const directives = (url: string) =>
      new Map(
        contentSecurityPolicy({ mediaPublicUrl: url })
          .split('; ')
          .map((d) => [d.split(' ')[0], d]),
      );
    expect(directives('wss://media.clinic.example:8443/rtc').get('connect-src')).toBe("connect-src 'self' wss://media.clinic.example:8443");
    expect(directives('wss://clinic.example/rtc').get('connect-src')).toBe("connect-src 'self' wss://clinic.example");
    const policy = directives('ws://127.0.0.1:4443/rtc');
    expect(policy.get('connect-src')).toBe("connect-src 'self' ws://127.0.0.1:4443");
    expect(policy.get('script-src')).toBe("script-src 'self'");
    expect(policy.get('style-src')).toBe("style-src 'self'");
    expect(policy.get('object-src')).toBe("object-src 'none'");
    expect(policy.get('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(policy.get('base-uri')).toBe("base-uri 'none'");
  });
});
