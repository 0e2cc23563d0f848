/**
 * Stock refusal phrasing: the documented list the refusal rule matches, by language. Each pattern is a phrase
 * models use to decline, written to avoid look-alikes ("I can't help but notice", "I can't stress enough",
 * "I cannot recommend it highly enough"); the subject is always the assistant ("you can't" never matches).
 *
 * Strength says how much a match alone says: `strong` is an explicit decline, `moderate` a decline that also
 * appears in partial answers or policy talk, `weak` a stock AI disclaimer ("As an AI language model") that often
 * precedes a refusal but can precede a full answer too.
 */
export type RefusalStrength = 'strong' | 'moderate' | 'weak';

export interface RefusalPattern {
  id: string;
  language: string;
  strength: RefusalStrength;
  pattern: RegExp;
  /** A phrase the pattern matches (the tests check every one). */
  example: string;
}

/** Wraps a pattern source so it matches whole words in any script (JavaScript's \b is ASCII-only). */
const phrase = (source: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${source})(?![\\p{L}\\p{N}])`, 'giu');
/** For scripts written without spaces, no word boundaries. */
const cjk = (source: string) => new RegExp(source, 'gu');

const CANT = "(?:can['’]?t|cannot|can not|am unable to|['’]m unable to|am not able to|['’]m not able to)";
const WONT = "(?:won['’]t|will not|am not going to|['’]m not going to)";
const DECLINED_ACTS = '(?:help(?!\\s+(?:but|feeling|thinking|noticing|wondering|myself|it)\\b)|assist|provide|comply|fulfil|fulfill|create|generate|produce|engage|participate|answer that|do that|do this|support (?:that|this) request|continue with this|write (?:that|this|it|content|something|a|an|the)|share (?:that|this|those|specific|personal))';

export const REFUSAL_PATTERNS: readonly RefusalPattern[] = [
  { id: 'en-sorry-but-cannot', language: 'en', strength: 'strong', pattern: phrase(`(?:I['’]m|I am) (?:really |very |so )?sorry,? but I (?:${CANT}|${WONT}|must decline|have to decline)`), example: "I'm sorry, but I cannot help with that." },
  { id: 'en-apologise-but-cannot', language: 'en', strength: 'strong', pattern: phrase(`I apologi[sz]e,? but I (?:${CANT}|${WONT})`), example: 'I apologize, but I am unable to do that.' },
  { id: 'en-cannot-act', language: 'en', strength: 'strong', pattern: phrase(`I ${CANT} ${DECLINED_ACTS}`), example: "I can't help with that." },
  { id: 'en-will-not-act', language: 'en', strength: 'moderate', pattern: phrase(`I ${WONT} (?:be (?:able to )?)?${DECLINED_ACTS}`), example: "I won't write that for you." },
  { id: 'en-must-decline', language: 'en', strength: 'strong', pattern: phrase('I (?:must|have to|need to|will have to) (?:respectfully |politely )?decline'), example: 'I must respectfully decline this request.' },
  { id: 'en-cannot-comply-request', language: 'en', strength: 'strong', pattern: phrase(`I ${CANT} (?:comply with|fulfil|fulfill|complete|process|accommodate) (?:that|this|your|the) request`), example: 'I cannot fulfill this request.' },
  { id: 'en-not-comfortable', language: 'en', strength: 'moderate', pattern: phrase("I(?:['’]m not| am not| don['’]t feel| do not feel) comfortable (?:with )?(?:helping|providing|writing|creating|generating|assisting|engaging|sharing|doing)"), example: "I'm not comfortable writing that." },
  { id: 'en-against-policy', language: 'en', strength: 'moderate', pattern: phrase("(?:violates?|goes against|is against|against) (?:my|our|the|OpenAI['’]s|Anthropic['’]s|Google['’]s) (?:content |usage |safety |ethical )?(?:guidelines|policies|policy|principles)"), example: 'That request goes against my guidelines.' },
  { id: 'en-not-allowed', language: 'en', strength: 'moderate', pattern: phrase("I(?:['’]m| am) not (?:allowed|permitted) to"), example: "I'm not allowed to share that." },
  { id: 'en-as-an-ai', language: 'en', strength: 'weak', pattern: phrase('As an AI(?: language model| model| assistant| system)?'), example: 'As an AI language model, I do not have opinions.' },
  { id: 'fr-desole-mais', language: 'fr', strength: 'strong', pattern: phrase("(?:je suis )?désolée?,? mais je ne (?:peux|pourrai|suis pas en mesure|vais pas)"), example: 'Je suis désolé, mais je ne peux pas vous aider.' },
  { id: 'fr-ne-peux-pas', language: 'fr', strength: 'strong', pattern: phrase("je ne (?:peux|pourrai) pas (?:vous |t['’])?(?:aider|répondre|fournir|satisfaire|accéder à (?:cette|votre) demande)"), example: 'Je ne peux pas vous aider avec cela.' },
  { id: 'fr-en-tant-que-ia', language: 'fr', strength: 'weak', pattern: phrase("en tant qu['’](?:IA|intelligence artificielle|assistante?|modèle de langage)"), example: "En tant qu'IA, je n'ai pas d'opinion." },
  { id: 'de-tut-mir-leid', language: 'de', strength: 'strong', pattern: phrase('(?:es )?tut mir leid,? aber ich (?:kann|darf|werde)(?: (?:dir|Ihnen|dabei|damit|hierbei|diese|diesen|das))* (?:nicht|keine)'), example: 'Es tut mir leid, aber ich kann dabei nicht helfen.' },
  { id: 'de-kann-nicht-helfen', language: 'de', strength: 'strong', pattern: phrase('ich kann (?:dir |Ihnen )?(?:dabei |damit |hierbei |bei dieser Anfrage )?nicht (?:helfen|behilflich sein)'), example: 'Ich kann Ihnen damit nicht helfen.' },
  { id: 'de-als-ki', language: 'de', strength: 'weak', pattern: phrase('als (?:eine )?KI(?:-Sprachmodell|-Assistent)?,? (?:habe|kann|bin|darf) ich'), example: 'Als KI habe ich keine Meinung.' },
  { id: 'es-lo-siento-pero', language: 'es', strength: 'strong', pattern: phrase('lo siento,? pero no (?:puedo|podré)'), example: 'Lo siento, pero no puedo ayudarte con eso.' },
  { id: 'es-no-puedo', language: 'es', strength: 'strong', pattern: phrase('no puedo (?:ayudarte|ayudarle|ayudar|proporcionar|cumplir|asistir|ofrecer)'), example: 'No puedo ayudarte con eso.' },
  { id: 'es-como-ia', language: 'es', strength: 'weak', pattern: phrase('como (?:una |un )?(?:IA|inteligencia artificial|modelo de lenguaje)'), example: 'Como IA, no tengo opiniones.' },
  { id: 'it-mi-dispiace', language: 'it', strength: 'strong', pattern: phrase('mi dispiace,? ma non (?:posso|potrò)'), example: 'Mi dispiace, ma non posso aiutarti.' },
  { id: 'it-non-posso', language: 'it', strength: 'strong', pattern: phrase('non posso (?:aiutarti|aiutarla|aiutare|fornire|assisterti|soddisfare)'), example: 'Non posso aiutarti con questa richiesta.' },
  { id: 'it-in-quanto-ia', language: 'it', strength: 'weak', pattern: phrase('(?:in quanto|come) (?:un )?(?:IA|intelligenza artificiale|modello (?:linguistico|di linguaggio))'), example: 'In quanto IA, non ho opinioni.' },
  { id: 'pt-desculpe-mas', language: 'pt', strength: 'strong', pattern: phrase('(?:desculpe|sinto muito|lamento),? mas (?:eu )?não (?:posso|poderei|consigo)'), example: 'Desculpe, mas não posso ajudar com isso.' },
  { id: 'pt-nao-posso', language: 'pt', strength: 'strong', pattern: phrase('(?:eu )?não posso (?:ajudar|ajudá-lo|ajudá-la|te ajudar|fornecer|atender)'), example: 'Não posso ajudar com isso.' },
  { id: 'pt-como-ia', language: 'pt', strength: 'weak', pattern: phrase('como (?:uma |um )?(?:IA|inteligência artificial|modelo de linguagem)'), example: 'Como uma IA, não tenho opiniões.' },
  { id: 'nl-spijt-me', language: 'nl', strength: 'strong', pattern: phrase('het spijt me,? maar ik (?:kan|mag) (?:je |u )?(?:daar |hier |hierbij |daarbij )?(?:niet|geen)'), example: 'Het spijt me, maar ik kan daar niet mee helpen.' },
  { id: 'nl-kan-niet-helpen', language: 'nl', strength: 'strong', pattern: phrase('ik kan (?:je |u )?(?:daar |hier |hierbij |daarbij )?niet (?:mee )?helpen'), example: 'Ik kan je daar niet mee helpen.' },
  { id: 'zh-sorry-cannot', language: 'zh', strength: 'strong', pattern: cjk('(?:抱歉|对不起|很抱歉)[，,]?\\s*我(?:无法|不能|没办法)'), example: '抱歉，我无法帮助你完成这个请求。' },
  { id: 'zh-cannot-help', language: 'zh', strength: 'strong', pattern: cjk('我(?:无法|不能)(?:提供|帮助|协助|满足)'), example: '我不能提供这类信息。' },
  { id: 'zh-as-an-ai', language: 'zh', strength: 'weak', pattern: cjk('作为一?个?(?:AI|人工智能)(?:语言模型|助手)?'), example: '作为一个AI语言模型，我没有个人观点。' },
  { id: 'ja-cannot-help', language: 'ja', strength: 'strong', pattern: cjk('(?:申し訳(?:ありません|ございません)が[、,]?.{0,30}?)?(?:お手伝い|お応え|お答え|対応|協力)(?:することは)?できません'), example: '申し訳ありませんが、そのご依頼にはお応えできません。' },
];
