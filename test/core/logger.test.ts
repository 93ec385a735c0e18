import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../../src/core/logger.js';
import { Secret } from '../../src/core/secret.js';
import { capture } from '../support/capture.js';

const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX';
const TOKEN = 'ya29.super-secret-access-token';

describe('logger', () => {
  it('never prints webhook URLs, tokens or Secret values', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream, pretty: false });

    logger.info({ webhook_url: WEBHOOK, token: TOKEN }, 'plain fields');
    logger.info(
      { notifier: { webhook_url: WEBHOOK }, request: { headers: { authorization: `Bearer ${TOKEN}` } } },
      'nested',
    );
    logger.info({ hook: new Secret(WEBHOOK) }, 'secret type');
    logger.warn(`posting to ${WEBHOOK} failed`);
    logger.error(
      { err: new Error(`connect to redis://admin:${TOKEN}@10.0.0.1:6379 failed`) },
      'error with url',
    );

    expect(out.text()).not.toContain('hooks.slack.com/services');
    expect(out.text()).not.toContain(TOKEN);
    expect(out.text()).toContain('<secret>');
  });

  it('scrubs credentials in URLs and Slack webhooks from free text', () => {
    expect(scrubSecrets(`redis://user:pw@host:6379 and ${WEBHOOK}`)).toBe(
      'redis://<secret>@host:6379 and <secret>',
    );
  });

  it('renders Secret as <secret> everywhere but reveal()', () => {
    const secret = new Secret('s3cr3t');

    expect(`${secret}`).toBe('<secret>');
    expect(JSON.stringify({ secret })).toBe('{"secret":"<secret>"}');
    expect(secret.reveal()).toBe('s3cr3t');
  });
});
