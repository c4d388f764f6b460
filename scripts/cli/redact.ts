/** The secrets that could reach an error message: REDISCLI_AUTH, restic's store credentials and passwords inside URL arguments. */
export function secretsOf(argv: string[], env: NodeJS.ProcessEnv): string[] {
  const secrets = new Set<string>();
  if (env.REDISCLI_AUTH) secrets.add(env.REDISCLI_AUTH);
  // The store credentials restic reads (offsite), and a repository URL's user info.
  for (const value of [env.RESTIC_PASSWORD, env.RESTIC_REST_PASSWORD, env.AWS_SECRET_ACCESS_KEY]) if (value) secrets.add(value);
  for (const arg of [...argv, env.RESTIC_REPOSITORY ?? '']) {
    const userinfo = /(?:^|=|^[a-z0-9]+:)[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(arg)?.[1];
    if (!userinfo) continue;
    const password = userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : userinfo;
    if (!password) continue;
    secrets.add(password);
    try {
      secrets.add(decodeURIComponent(password));
    } catch {
      // a malformed escape: the raw form is enough
    }
  }
  return [...secrets].filter(Boolean).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join('***'), text);
}
