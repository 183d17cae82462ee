import { parse } from 'yaml';
import { join } from 'node:path';
import { UsageError } from '../cli-errors';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ConfigFile {
  api_url?: string;
  token?: string;
}

export interface CliConfig {
  apiUrl: string;
  /** Undefined when no source gave one: commands that call the API refuse to run. */
  token: string | undefined;
}

export interface ConfigSources {
  flags: { apiUrl?: string; token?: string };
  env: Record<string, string | undefined>;
  file: ConfigFile;
}

/** Flags win over the environment, which wins over the config file; the API URL defaults to the local control plane. */
export function resolveConfig({ flags, env, file }: ConfigSources): CliConfig {
  const pick = (...values: (string | undefined)[]) => values.find((v) => v !== undefined && v !== '');
  const apiUrl = pick(flags.apiUrl, env['GROVE_API_URL'], file.api_url) ?? DEFAULT_API_URL;
  if (!/^https?:\/\/[^/]/.test(apiUrl) || !URL.canParse(apiUrl)) {
    throw new UsageError(`API URL "${apiUrl}" is not an http(s) URL`);
  }
  return { apiUrl: apiUrl.replace(/\/+$/, ''), token: pick(flags.token, env['GROVE_TOKEN'], file.token) };
}

/** `GROVE_CONFIG`, else `$XDG_CONFIG_HOME/grove/config.yaml`, else `~/.config/grove/config.yaml`. */
export function configFilePath(env: Record<string, string | undefined>, homedir: string): { path: string; explicit: boolean } {
  if (env['GROVE_CONFIG']) return { path: env['GROVE_CONFIG'], explicit: true };
  return { path: join(env['XDG_CONFIG_HOME'] || join(homedir, '.config'), 'grove', 'config.yaml'), explicit: false };
}

/**
 * Parses the config file's text (`undefined` = the file does not exist). A missing default file is fine; a missing
 * file named by GROVE_CONFIG, bad YAML or wrong types are usage errors.
 */
export function parseConfigFile(text: string | undefined, path: string, explicit: boolean): ConfigFile {
  if (text === undefined) {
    if (explicit) throw new UsageError(`config file ${path} (GROVE_CONFIG) does not exist`);
    return {};
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`config file ${path}: expected a mapping with api_url and token`);
  const file = value as Record<string, unknown>;
  for (const key of ['api_url', 'token'] as const) {
    if (file[key] !== undefined && typeof file[key] !== 'string') throw new UsageError(`config file ${path}: ${key} must be a string`);
  }
  return { api_url: file['api_url'] as string | undefined, token: file['token'] as string | undefined };
}

export function requireToken(config: CliConfig, configPath: string): string {
  if (config.token) return config.token;
  throw new UsageError(`no API token: set GROVE_TOKEN, pass --token, or put "token: grove_…" in ${configPath}`);
}
