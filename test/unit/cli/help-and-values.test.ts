// The flag table against etcd 3.4.23's own --help, the --version text, --version/--help detection,
// and the Go-semantics value parsers.
import { describe, expect, it } from 'vitest';
import { earlyAction } from '../../../src/cli/config.js';
import { handleEarlyAction } from '../../../src/cli/index.js';
import { FLAGS } from '../../../src/cli/flags.js';
import { flagsText, usageText, versionText } from '../../../src/cli/help.js';
import { ValueError, parseBool, parseDurationMs, parseInteger, parseOneUrl, urlPort } from '../../../src/cli/values.js';
import { ETCD_3_4_23_FLAG_LINES } from './etcd-3.4.23-flags.js';

describe('flag table', () => {
  it('has every etcd 3.4.23 flag, in etcd\'s order, with etcd\'s default (except --enable-v2)', () => {
    const ours = flagsText().split('\n').filter((l) => l.startsWith('  --')).map((l) => l.slice(2));
    const expected = ETCD_3_4_23_FLAG_LINES.map((l) => (l === "--enable-v2 'false'" ? "--enable-v2 'true'" : l));
    expect(ours).toEqual(expected);
    expect(FLAGS.length).toBe(ETCD_3_4_23_FLAG_LINES.length);
  });
  it('prints usage with the version and help forms', () => {
    expect(usageText()).toMatch(/^Usage:\n\n {2}etcd \[flags\]/);
    expect(usageText()).toContain('  etcd --version\n');
    expect(usageText()).toContain('  etcd -h | --help\n');
  });
});

describe('--version', () => {
  it('prints etcd\'s four lines with the compatible etcd version first', () => {
    const lines = versionText().trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('etcd Version: 3.4.23');
    expect(lines[1]).toMatch(/^Git SHA: etcd-ts \d+\.\d+\.\d+/);
    expect(lines[2]).toBe(`Node Version: ${process.version}`);
    expect(lines[3]).toMatch(/^Node OS\/Arch: [a-z0-9]+\/[a-z0-9]+$/);
  });
  it.each([
    [['--version'], 'version'],
    [['-version'], 'version'],
    [['--version=true'], 'version'],
    [['--name', 'x', '--version'], 'version'],
    [['-h'], 'help'],
    [['--help'], 'help'],
    [['--name', 'x'], undefined],
  ])('%j → %s', (argv, action) => {
    expect(earlyAction(argv)).toBe(action);
  });
});

describe('handleEarlyAction', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return { out, stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } };
  };
  it('--version writes the version to stdout and exits 0', () => {
    const c = capture();
    expect(handleEarlyAction(['--version'], c.stdout, c.stderr)).toBe(0);
    expect(c.out).toEqual({ stdout: versionText(), stderr: '' });
  });
  it('--help writes usage to stderr and the flags to stdout, as etcd does', () => {
    const c = capture();
    expect(handleEarlyAction(['-h'], c.stdout, c.stderr)).toBe(0);
    expect(c.out).toEqual({ stdout: flagsText(), stderr: usageText() });
  });
  it('leaves ordinary command lines to parseConfig', () => {
    const c = capture();
    expect(handleEarlyAction(['--name', 'x'], c.stdout, c.stderr)).toBeUndefined();
    expect(c.out).toEqual({ stdout: '', stderr: '' });
  });
});

describe('value parsers (Go semantics)', () => {
  it.each([['1', true], ['t', true], ['TRUE', true], ['True', true], ['0', false], ['f', false], ['FALSE', false]])(
    'parseBool(%s) = %s', (s, v) => expect(parseBool(s)).toBe(v),
  );
  it.each(['yes', 'no', 'on', '', 'tRUE'])('parseBool(%j) fails', (s) => expect(() => parseBool(s)).toThrow(ValueError));

  it.each([['10', 10], ['0x10', 16], ['0o17', 15], ['017', 15], ['0b101', 5], ['1_000', 1000]])(
    'parseInteger(%s) = %d', (s, v) => expect(parseInteger(s, true)).toBe(v),
  );
  it.each(['-1', '1.5', '1k', '', '08', 'abc'])('unsigned parseInteger(%j) fails', (s) => expect(() => parseInteger(s, true)).toThrow(ValueError));
  it('signed integers take a sign', () => expect(parseInteger('-5', false)).toBe(-5));

  it.each([['0', 0], ['5s', 5000], ['2h', 7_200_000], ['100ms', 100], ['1h30m', 5_400_000], ['1.5s', 1500], ['10m', 600_000], ['-2s', -2000], ['250us', 0.25]])(
    'parseDurationMs(%s) = %d', (s, v) => expect(parseDurationMs(s)).toBe(v),
  );
  it.each(['5', 'abc', '', 's', '1d', '1.s5'])('parseDurationMs(%j) fails', (s) => expect(() => parseDurationMs(s)).toThrow(ValueError));

  it('URLs keep their port even when it is the scheme default', () => {
    expect(urlPort(parseOneUrl('http://127.0.0.1:80'))).toBe(80);
    expect(urlPort(parseOneUrl('https://[::1]:443'))).toBe(443);
    expect(urlPort(parseOneUrl(' http://localhost:2379 '))).toBe(2379);
    expect(parseOneUrl('unix://localhost:12345').protocol).toBe('unix:');
  });
});
