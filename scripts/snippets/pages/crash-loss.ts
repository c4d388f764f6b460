export const crashLossSnippets = [];
