import type { EmojiData, EmojiDataResolver } from "frimousse";

/** One tap under a message's actions; the picker has the rest. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"] as const;

// A compact curated set served with the app: the picker never fetches emoji data from a CDN
// (the CSP allows only our own origin, and self-hosted installs may have no internet).
const CATEGORIES: [string, [string, string, string[]][]][] = [
  [
    "Smileys",
    [
      ["😀", "Grinning face", ["smile", "happy"]],
      ["😂", "Face with tears of joy", ["laugh", "lol"]],
      ["🙂", "Slightly smiling face", ["smile"]],
      ["😉", "Winking face", ["wink"]],
      ["😊", "Smiling face with smiling eyes", ["blush"]],
      ["😍", "Smiling face with heart-eyes", ["love"]],
      ["🤔", "Thinking face", ["hmm", "think"]],
      ["😮", "Face with open mouth", ["wow", "surprise"]],
      ["😢", "Crying face", ["sad", "tear"]],
      ["😭", "Loudly crying face", ["sob"]],
      ["😡", "Enraged face", ["angry"]],
      ["😴", "Sleeping face", ["tired", "zzz"]],
      ["🤯", "Exploding head", ["mind blown"]],
      ["🥳", "Partying face", ["party", "celebrate"]],
      ["😎", "Smiling face with sunglasses", ["cool"]],
      ["🙃", "Upside-down face", ["silly"]],
      ["😅", "Grinning face with sweat", ["phew"]],
      ["🤣", "Rolling on the floor laughing", ["rofl"]],
      ["😬", "Grimacing face", ["awkward"]],
      ["🫠", "Melting face", ["melt"]],
    ],
  ],
  [
    "People",
    [
      ["👍", "Thumbs up", ["yes", "ok", "+1"]],
      ["👎", "Thumbs down", ["no", "-1"]],
      ["👏", "Clapping hands", ["applause", "clap"]],
      ["🙌", "Raising hands", ["hooray"]],
      ["🙏", "Folded hands", ["please", "thanks"]],
      ["👋", "Waving hand", ["hello", "bye"]],
      ["💪", "Flexed biceps", ["strong"]],
      ["👀", "Eyes", ["look", "see"]],
      ["🤝", "Handshake", ["deal", "agree"]],
      ["✌️", "Victory hand", ["peace"]],
      ["👌", "OK hand", ["ok", "perfect"]],
      ["🤷", "Person shrugging", ["shrug"]],
      ["🤦", "Person facepalming", ["facepalm"]],
      ["🫡", "Saluting face", ["salute"]],
    ],
  ],
  [
    "Symbols",
    [
      ["❤️", "Red heart", ["love", "heart"]],
      ["💯", "Hundred points", ["100", "perfect"]],
      ["🔥", "Fire", ["hot", "lit"]],
      ["✨", "Sparkles", ["shiny", "new"]],
      ["✅", "Check mark button", ["done", "yes"]],
      ["❌", "Cross mark", ["no", "wrong"]],
      ["⚠️", "Warning", ["caution"]],
      ["❓", "Question mark", ["question"]],
      ["❗", "Exclamation mark", ["important"]],
      ["💡", "Light bulb", ["idea"]],
      ["⭐", "Star", ["favourite"]],
      ["💔", "Broken heart", ["sad"]],
      ["➕", "Plus", ["add", "+1"]],
      ["🆗", "OK button", ["ok"]],
    ],
  ],
  [
    "Objects",
    [
      ["🎉", "Party popper", ["tada", "celebrate"]],
      ["🚀", "Rocket", ["launch", "ship"]],
      ["☕", "Hot beverage", ["coffee", "tea"]],
      ["🍕", "Pizza", ["food", "lunch"]],
      ["🎂", "Birthday cake", ["birthday", "cake"]],
      ["📌", "Pushpin", ["pin"]],
      ["📎", "Paperclip", ["attachment"]],
      ["🐛", "Bug", ["bug"]],
      ["🛠️", "Hammer and wrench", ["tools", "fix"]],
      ["📅", "Calendar", ["date", "meeting"]],
      ["⏰", "Alarm clock", ["time", "late"]],
      ["🏆", "Trophy", ["win"]],
      ["🎁", "Wrapped gift", ["present"]],
      ["🌈", "Rainbow", ["rainbow"]],
      ["☀️", "Sun", ["sunny", "weather"]],
      ["🌧️", "Cloud with rain", ["rain"]],
    ],
  ],
];

export const emojiData: EmojiData = {
  locale: "en",
  categories: CATEGORIES.map(([label], index) => ({ index, label })),
  emojis: CATEGORIES.flatMap(([, emojis], category) =>
    emojis.map(([emoji, label, tags]) => ({ emoji, category, label, version: 1, tags })),
  ),
  skinTones: {
    light: "Light",
    "medium-light": "Medium-light",
    medium: "Medium",
    "medium-dark": "Medium-dark",
    dark: "Dark",
  },
};

export const resolveEmojiData: EmojiDataResolver = () => emojiData;
