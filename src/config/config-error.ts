/**
 * The error of a configuration that cannot start the broker (a bad value, a bad combination): its message
 * names the config, the value and where it came from. The command line prints it on one line and exits
 * with status 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
