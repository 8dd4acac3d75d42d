/** A traffic profile: the target request rate at each moment, as a fraction of the peak rate. */
export type ProfileName = 'steady' | 'ramp' | 'spike';

export const PROFILES: readonly ProfileName[] = ['steady', 'ramp', 'spike'];

/**
 * Fraction of the peak rate at `progress` (0..1 of the run):
 * - steady: the peak throughout;
 * - ramp: from 10% to 100% linearly;
 * - spike (Black-Friday surge): 20% for the first 30%, then the full peak for 40%, then back to 20%.
 * For an endless run (`progress` undefined) ramp holds the peak and spike repeats its shape every `periodSeconds`.
 */
export function rateFraction(profile: ProfileName, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  switch (profile) {
    case 'steady':
      return 1;
    case 'ramp':
      return 0.1 + 0.9 * p;
    case 'spike':
      return p >= 0.3 && p < 0.7 ? 1 : 0.2;
  }
}
