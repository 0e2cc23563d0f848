/**
 * Known glitch tokens: strings that were single, under-trained tokens in widely used tokenisers and made models
 * respond anomalously (cannot repeat them, substitute another word, turn evasive or hostile). Sources: Rumbelow
 * and Watkins, "SolidGoldMagikarp (plus, prompt generation)" (LessWrong, February 2023) and its follow-ups, for
 * the GPT-2/GPT-3 (r50k/p50k) vocabulary; most are r/counting user names and e-commerce or game-engine
 * identifiers. Matched case-sensitively as whole strings (not inside a longer word). Strings that are also
 * ordinary words in some language (ゼウス, "Zeus") are left out to avoid false alarms.
 *
 * Extend with care: a token belongs here only with a published report of anomalous behaviour.
 */
export const KNOWN_GLITCH_TOKENS: readonly string[] = [
  'SolidGoldMagikarp',
  'petertodd',
  'davidjl',
  'TheNitromeFan',
  'TheNitrome',
  'RandomRedditorWithNo',
  'StreamerBot',
  'TPPStreamerBot',
  'Smartstocks',
  'Adinida',
  'guiActiveUn',
  'guiActiveUnfocused',
  'guiIcon',
  'externalToEvaAction',
  'externalActionCode',
  'ItemThumbnailImage',
  'EStreamFrame',
  'attRot',
  'embedreportprint',
  'cloneembedreportprint',
  'rawdownloadcloneembedreportprint',
  'InstoreAndOnline',
  'BuyableInstoreAndOnline',
  'oreAndOnline',
  'largeDownload',
  'srfN',
  'srfAttach',
  'natureconservancy',
  'assetsadobe',
  'Downloadha',
  'DragonMagazine',
  'PsyNetMessage',
  'quickShip',
  'quickShipAvailable',
  'soDeliveryDate',
  'isSpecialOrderable',
  'channelAvailability',
  'unfocusedRange',
  '龍喚士',
  '龍契士',
];

/**
 * Chat-template control tokens that belong to the format, not to a reply (DEG-ROLE-LEAK when they show up in
 * the visible text): ChatML, Llama 2/3, Gemma, Mistral, DeepSeek (full-width bars) and GPT end-of-text markers.
 */
export const SPECIAL_TOKEN_PATTERN = /<\|(?:im_start|im_end|im_sep|endoftext|endofprompt|eot_id|eom_id|start_header_id|end_header_id|begin_of_text|end_of_text|fim_prefix|fim_middle|fim_suffix|user|assistant|system|end|pad)\|>|<｜[^｜\n]{1,40}｜>|<\/?(?:start_of_turn|end_of_turn)>|\[\/?INST\]|<<\/?SYS>>/g;
