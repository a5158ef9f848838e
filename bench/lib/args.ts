// The single-purpose benches' flags: `--name value` pairs and bare `--switch`es, read as they are needed.
export function benchFlags(args: readonly string[] = process.argv.slice(2)): { value(name: string): string | undefined; has(name: string): boolean } {
  return {
    value: (name) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : undefined;
    },
    has: (name) => args.includes(`--${name}`),
  };
}
