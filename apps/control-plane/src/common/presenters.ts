/** Unix seconds, as the OpenAI-style API reports times. */
export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export function unixSecondsOrNull(date: Date | null | undefined): number | null {
  return date ? unixSeconds(date) : null;
}
