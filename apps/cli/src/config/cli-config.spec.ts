import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli-errors';
import { configFilePath, DEFAULT_API_URL, parseConfigFile, requireToken, resolveConfig } from './cli-config';

describe(resolveConfig.name, () => {
  const file = { api_url: 'http://file:1', token: 'grove_file' };
  const env = { GROVE_API_URL: 'http://env:2', GROVE_TOKEN: 'grove_env' };

  it('lets flags win over the environment, and the environment over the file', () => {
    expect(resolveConfig({ flags: { apiUrl: 'http://flag:3', token: 'grove_flag' }, env, file })).toEqual({ apiUrl: 'http://flag:3', token: 'grove_flag' });
    expect(resolveConfig({ flags: {}, env, file })).toEqual({ apiUrl: 'http://env:2', token: 'grove_env' });
    expect(resolveConfig({ flags: {}, env: {}, file })).toEqual({ apiUrl: 'http://file:1', token: 'grove_file' });
  });

  it('takes each setting from the first source that has it', () => {
    expect(resolveConfig({ flags: { token: 'grove_flag' }, env: { GROVE_API_URL: 'http://env:2' }, file })).toEqual({ apiUrl: 'http://env:2', token: 'grove_flag' });
  });

  it('treats an empty environment variable as unset', () => {
    expect(resolveConfig({ flags: {}, env: { GROVE_TOKEN: '', GROVE_API_URL: '' }, file }).token).toBe('grove_file');
  });

  it('defaults the API URL to the local control plane and leaves the token unset', () => {
    expect(resolveConfig({ flags: {}, env: {}, file: {} })).toEqual({ apiUrl: DEFAULT_API_URL, token: undefined });
  });

  it('drops trailing slashes and refuses URLs that are not http(s)', () => {
    expect(resolveConfig({ flags: { apiUrl: 'https://grove.example/' }, env: {}, file: {} }).apiUrl).toBe('https://grove.example');
    expect(() => resolveConfig({ flags: { apiUrl: 'grove.example' }, env: {}, file: {} })).toThrow(UsageError);
  });
});

describe(configFilePath.name, () => {
  it('uses GROVE_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(configFilePath({ GROVE_CONFIG: '/etc/g.yaml', XDG_CONFIG_HOME: '/x' }, '/home/a')).toEqual({ path: '/etc/g.yaml', explicit: true });
    expect(configFilePath({ XDG_CONFIG_HOME: '/x' }, '/home/a')).toEqual({ path: '/x/grove/config.yaml', explicit: false });
    expect(configFilePath({}, '/home/a')).toEqual({ path: '/home/a/.config/grove/config.yaml', explicit: false });
  });
});

describe(parseConfigFile.name, () => {
  it('reads api_url and token', () => {
    expect(parseConfigFile('api_url: http://h:1\ntoken: grove_x\n', 'c.yaml', false)).toEqual({ api_url: 'http://h:1', token: 'grove_x' });
  });

  it('accepts a missing default file and an empty one', () => {
    expect(parseConfigFile(undefined, 'c.yaml', false)).toEqual({});
    expect(parseConfigFile('', 'c.yaml', false)).toEqual({});
  });

  it('refuses a missing file named by GROVE_CONFIG, bad YAML and wrong types', () => {
    expect(() => parseConfigFile(undefined, 'c.yaml', true)).toThrow(/c\.yaml \(GROVE_CONFIG\) does not exist/);
    expect(() => parseConfigFile('token: [unclosed', 'c.yaml', false)).toThrow(/^config file c\.yaml: /);
    expect(() => parseConfigFile('- a\n- b\n', 'c.yaml', false)).toThrow(/expected a mapping/);
    expect(() => parseConfigFile('token: 12\n', 'c.yaml', false)).toThrow(/token must be a string/);
  });
});

describe(requireToken.name, () => {
  it('names every place a token can come from', () => {
    expect(() => requireToken({ apiUrl: DEFAULT_API_URL, token: undefined }, '/h/.config/grove/config.yaml')).toThrow(
      /GROVE_TOKEN.*--token.*\/h\/\.config\/grove\/config\.yaml/,
    );
  });
});
