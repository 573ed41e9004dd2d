/**
 * The word list of the default content scorer, by category. Each entry lists every form that
 * counts (no stemming, no substring matching: "skill" is not "kill", "therapist" is not
 * "rapist", "attacker" counts only because it is listed). docs/content-scoring.md shows this
 * table and a test keeps the two in step.
 *
 * Weights are the score one hit removes; further hits in the same category remove half a
 * weight each. A single ambiguous word ("kill a process") therefore leaves a score above the
 * default moral value, while several hits, or one in a severe category, fall below it.
 */

/** One category of the lexicon. */
export interface LexiconCategory {
  readonly name: string;
  readonly weight: number;
  readonly words: readonly string[];
}

/** The lexicon. */
export const LEXICON: readonly LexiconCategory[] = [
  {
    name: "violence",
    weight: 0.4,
    words: [
      "kill",
      "kills",
      "killed",
      "killing",
      "murder",
      "murders",
      "murdered",
      "murdering",
      "murderer",
      "massacre",
      "slaughter",
      "behead",
      "beheading",
      "torture",
      "tortured",
      "torturing",
      "stab",
      "stabbed",
      "stabbing",
      "strangle",
      "strangled",
      "assault",
      "assaulted",
      "attack",
      "attacked",
      "attacker",
      "maim",
      "maimed",
    ],
  },
  {
    name: "weapons",
    weight: 0.4,
    words: [
      "bomb",
      "bombs",
      "explosive",
      "explosives",
      "detonator",
      "grenade",
      "grenades",
      "napalm",
      "nerve-agent",
      "sarin",
      "ricin",
      "firearm",
      "firearms",
      "silencer",
    ],
  },
  {
    name: "hate",
    weight: 0.5,
    words: ["subhuman", "subhumans", "exterminate", "extermination", "genocide", "hate", "hateful", "hatred"],
  },
  {
    name: "self_harm",
    weight: 0.5,
    words: ["suicide", "suicidal", "overdose", "self-harm", "selfharm"],
  },
  {
    name: "sexual_violence",
    weight: 0.7,
    words: ["rape", "raped", "raping", "rapist", "molest", "molested", "molesting"],
  },
  {
    name: "crime",
    weight: 0.3,
    words: [
      "steal",
      "stealing",
      "stolen",
      "launder",
      "laundering",
      "counterfeit",
      "ransomware",
      "malware",
      "phishing",
      "extort",
      "extortion",
      "blackmail",
    ],
  },
];
