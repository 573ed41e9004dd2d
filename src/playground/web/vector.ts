/** A random unit vector of `dimension` floats, for ProcessEvent. */
export function randomUnitVector(dimension: number): number[] {
  const values = Array.from({ length: dimension }, () => Math.random() * 2 - 1);
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}
