//! The supplier's unified social credit code (统一社会信用代码), GB 32100-2015 with its amendment
//! No. 1 (GB 32100-2015/XG1-2016): parsed once into [`Uscc`], so a stored code is always
//! well-formed.
//!
//! An 18-character code over the alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z):
//!
//! | chars | part | checked here |
//! |---|---|---|
//! | 1 | registration authority (登记管理部门代码) | one of the authorities of the amended table |
//! | 2 | category (机构类别代码) | one of that authority's categories |
//! | 3–8 | administrative division of the registering office (登记管理机关行政区划码) | six digits |
//! | 9–17 | subject identifier = organisation code (主体标识码，GB 11714) | its own check digit, char 17 |
//! | 18 | check character (校验码) | mod-31 weighted sum |
//!
//! The organisation-code check digit (GB 11714): chars 9–16 valued `0`–`9` → 0–9 and `A`–`Z` →
//! 10–35 (the full Latin alphabet, I and O included), weights 3, 7, 9, 10, 5, 8, 4, 2;
//! `11 − (sum mod 11)`, 10 written `X` and 11 written `0`. The code's check character (GB 32100):
//! chars 1–17 valued by their position in the code's own 31-character alphabet, weights
//! `3^(i−1) mod 31` = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28;
//! `31 − (sum mod 31)`, 31 written `0`. The standard's worked example is `91350100M000100Y4?`
//! (sum 1640, mod 31 = 28, check `3`), so `91350100M000100Y43` is valid; the tests pin it.
//!
//! The original 2015 table listed authorities 1 机构编制, 5 民政, 9 工商 and Y 其他; the 2016
//! amendment added 2 外交, 3 司法行政, 4 文化, 6 旅游, 7 宗教, 8 工会, A 中央军委改革和编制办公室 and
//! N 农业. Codes of those authorities are issued and in use (law firms are `31…`, village
//! collectives `N2…`), so all of them are accepted.
//!
//! Known limitation: a few codes issued in Xiamen before 2016 (`91350203M0001…`) are in real use
//! but their 18th character does not satisfy the standard; they are refused here like any other
//! code that fails the check, and need a manual path if such a supplier ever appears.
//!
//! Input is normalised before checking: surrounding whitespace is trimmed and ASCII letters are
//! uppercased, because the code's letters carry no case and people paste and type them loosely.
//! Anything else (inner spaces, hyphens, full-width characters) is refused.

use std::fmt;

use egov_platform::{error::FieldViolation, named_enum};

/// The field every refusal of [`validate_uscc`] names.
pub const CREDIT_CODE_FIELD: &str = "supplier.credit_code";

/// The code's alphabet, in value order: a character's value is its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100 weights of chars 1–17: `3^(i−1) mod 31`.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// GB 11714 weights of the organisation code's first eight characters.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

named_enum!(
    /// Who registered the organisation (登记管理部门), the code's first character.
    pub enum RegistrationAuthority {
        /// 1 机构编制.
        Establishment = "ESTABLISHMENT",
        /// 2 外交.
        ForeignAffairs = "FOREIGN_AFFAIRS",
        /// 3 司法行政.
        JusticeAdministration = "JUSTICE_ADMINISTRATION",
        /// 4 文化.
        Culture = "CULTURE",
        /// 5 民政.
        CivilAffairs = "CIVIL_AFFAIRS",
        /// 6 旅游.
        Tourism = "TOURISM",
        /// 7 宗教.
        Religion = "RELIGION",
        /// 8 工会.
        TradeUnion = "TRADE_UNION",
        /// 9 工商 (now market regulation, 市场监管).
        Industry = "INDUSTRY_AND_COMMERCE",
        /// A 中央军委改革和编制办公室.
        MilitaryEstablishment = "MILITARY_ESTABLISHMENT",
        /// N 农业.
        Agriculture = "AGRICULTURE",
        /// Y 其他.
        Other = "OTHER",
    }
);

impl RegistrationAuthority {
    /// The authority of a code's first character.
    pub fn from_code(c: char) -> Option<RegistrationAuthority> {
        use RegistrationAuthority::*;
        Some(match c {
            '1' => Establishment,
            '2' => ForeignAffairs,
            '3' => JusticeAdministration,
            '4' => Culture,
            '5' => CivilAffairs,
            '6' => Tourism,
            '7' => Religion,
            '8' => TradeUnion,
            '9' => Industry,
            'A' => MilitaryEstablishment,
            'N' => Agriculture,
            'Y' => Other,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        use RegistrationAuthority::*;
        match self {
            Establishment => "机构编制",
            ForeignAffairs => "外交",
            JusticeAdministration => "司法行政",
            Culture => "文化",
            CivilAffairs => "民政",
            Tourism => "旅游",
            Religion => "宗教",
            TradeUnion => "工会",
            Industry => "工商",
            MilitaryEstablishment => "中央军委改革和编制办公室",
            Agriculture => "农业",
            Other => "其他",
        }
    }

    /// The categories (机构类别代码) this authority registers, with their names.
    pub fn categories(self) -> &'static [(char, &'static str)] {
        use RegistrationAuthority::*;
        match self {
            Establishment => &[('1', "机关"), ('2', "事业单位"), ('3', "中央编办直接管理机构编制的群众团体"), ('9', "其他")],
            ForeignAffairs => &[('1', "外国常驻新闻机构"), ('9', "其他")],
            JusticeAdministration => &[
                ('1', "律师执业机构"),
                ('2', "公证处"),
                ('3', "基层法律服务所"),
                ('4', "司法鉴定机构"),
                ('5', "仲裁委员会"),
                ('9', "其他"),
            ],
            Culture => &[('1', "外国在华文化中心"), ('9', "其他")],
            CivilAffairs => &[('1', "社会团体"), ('2', "民办非企业单位"), ('3', "基金会"), ('9', "其他")],
            Tourism => &[('1', "外国旅游部门常驻代表机构"), ('2', "港澳台地区旅游部门常驻内地（大陆）代表机构"), ('9', "其他")],
            Religion => &[('1', "宗教活动场所"), ('2', "宗教院校"), ('9', "其他")],
            TradeUnion => &[('1', "基层工会"), ('9', "其他")],
            Industry => &[('1', "企业"), ('2', "个体工商户"), ('3', "农民专业合作社")],
            MilitaryEstablishment => &[('1', "军队事业单位"), ('9', "其他")],
            Agriculture => &[('1', "组级集体经济组织"), ('2', "村级集体经济组织"), ('3', "乡镇级集体经济组织"), ('9', "其他")],
            // 其他: not divided into categories, always 1.
            Other => &[('1', "其他")],
        }
    }
}

/// A valid unified social credit code, in canonical (uppercase) form. Only [`validate_uscc`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

#[cfg_attr(not(test), expect(dead_code, reason = "the parts of a code are for the operation records of R-E7, not read yet"))]
impl Uscc {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn registration_authority(&self) -> RegistrationAuthority {
        // Validated: the first character is a known authority.
        self.0.chars().next().and_then(RegistrationAuthority::from_code).unwrap_or(RegistrationAuthority::Other)
    }

    /// The category's name (机构类别), e.g. 企业.
    pub fn category(&self) -> &'static str {
        let c = self.0.as_bytes()[1] as char;
        self.registration_authority().categories().iter().find(|(code, _)| *code == c).map_or("", |(_, name)| name)
    }

    /// Chars 3–8: the registering office's administrative division (GB/T 2260), e.g. `330102`.
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Chars 9–17: the organisation code (组织机构代码, GB 11714), check digit included.
    pub fn organisation_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn refuse(description: impl Into<String>) -> FieldViolation {
    FieldViolation::new(CREDIT_CODE_FIELD, format!("统一社会信用代码 / unified social credit code: {}", description.into()))
}

/// The value of a character of the code's alphabet.
fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|i| i as u32)
}

/// The GB 11714 value of an organisation-code character: digits 0–9, letters A–Z 10–35.
fn org_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        _ => u32::from(c - b'A') + 10,
    }
}

/// The GB 11714 check digit of an organisation code's first eight characters.
fn organisation_check(body: &[u8]) -> char {
    let sum: u32 = body.iter().zip(ORG_WEIGHTS).map(|(c, w)| org_value(*c) * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// The GB 32100 check character of a code's first seventeen characters (all of the alphabet).
fn code_check(body: &[u8]) -> char {
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(c, w)| value(*c).unwrap_or(0) * w).sum();
    char::from(ALPHABET[((31 - sum % 31) % 31) as usize])
}

/// Parses a supplier's unified social credit code (GB 32100-2015), refusing it with a field
/// error on [`CREDIT_CODE_FIELD`] that says the first thing wrong: the length, a character
/// outside the alphabet, the registration authority, its category, the division code, the
/// organisation code's check digit, or the check character.
pub fn validate_uscc(code: &str) -> Result<Uscc, FieldViolation> {
    let code = code.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(refuse("required"));
    }
    let len = code.chars().count();
    if len != 18 {
        return Err(refuse(format!("must be 18 characters, got {len}")));
    }
    if let Some((i, c)) = code.char_indices().find(|(_, c)| !c.is_ascii() || value(*c as u8).is_none()) {
        return Err(refuse(format!(
            "character {} (「{c}」) is not allowed: only digits and the capital letters other than I, O, S, V, Z",
            code[..i].chars().count() + 1
        )));
    }
    // All ASCII from here: byte positions are character positions.
    let b = code.as_bytes();
    let first = b[0] as char;
    let Some(authority) = RegistrationAuthority::from_code(first) else {
        return Err(refuse(format!(
            "the registration authority code (登记管理部门代码, character 1) 「{first}」 is not one of 1–9, A, N, Y"
        )));
    };
    let second = b[1] as char;
    if !authority.categories().iter().any(|(c, _)| *c == second) {
        let known: Vec<String> = authority.categories().iter().map(|(c, name)| format!("{c} {name}")).collect();
        return Err(refuse(format!(
            "the category code (机构类别代码, character 2) 「{second}」 is not one registered by {} ({first}): {}",
            authority.label(),
            known.join(", ")
        )));
    }
    if !b[2..8].iter().all(u8::is_ascii_digit) {
        return Err(refuse(format!(
            "the administrative division code (行政区划码, characters 3–8) 「{}」 must be six digits",
            &code[2..8]
        )));
    }
    let org_expected = organisation_check(&b[8..16]);
    if b[16] as char != org_expected {
        return Err(refuse(format!(
            "the organisation code (组织机构代码, characters 9–17) 「{}」 fails its GB 11714 check: character 17 should be 「{org_expected}」",
            &code[8..17]
        )));
    }
    let expected = code_check(&b[..17]);
    if b[17] as char != expected {
        return Err(refuse(format!(
            "the check character (校验码, character 18) is 「{}」 but the first 17 characters give 「{expected}」: a character was mistyped",
            b[17] as char
        )));
    }
    Ok(Uscc(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard's worked example, completed with its computed check character.
    const STANDARD_EXAMPLE: &str = "91350100M000100Y43";

    /// Codes of registered entities, published (in sample data and bug reports of validators)
    /// with their registrations, covering authorities 1 and 9 and categories 1, 2 and 3.
    const PUBLISHED: &[&str] = &[
        STANDARD_EXAMPLE,
        "91350200776049653A",
        "91350500798359476R",
        "91350503MA31DKY80A",
        "91350200MA31E12PXF",
        "91440101MA5CJQ4N59",
        "913502000728319549",
        "123502001549897397",
        "9135021359498494XQ",
        "91350213678251743X",
        "91350200MA2YJ1XR9G",
        "92500105MAC817EJ5D",
        "12440600MB2C07549J",
    ];

    fn rejection(code: &str) -> String {
        let v = validate_uscc(code).unwrap_err();
        assert_eq!(v.field, CREDIT_CODE_FIELD);
        v.description
    }

    /// Builds a valid code from 16 characters by computing both check characters.
    fn complete(first16: &str) -> String {
        let b = first16.as_bytes();
        let mut s = format!("{first16}{}", organisation_check(&b[8..16]));
        let check = code_check(s.as_bytes());
        s.push(check);
        s
    }

    #[test]
    fn standard_worked_example() {
        // GB 32100 annex: the weighted sum of 91350100M000100Y4 is 1640, 1640 mod 31 = 28,
        // 31 − 28 = 3; its sample input 91350100M000100Y4Z is therefore invalid.
        let body = &STANDARD_EXAMPLE.as_bytes()[..17];
        let sum: u32 = body.iter().zip(WEIGHTS).map(|(c, w)| value(*c).unwrap() * w).sum();
        assert_eq!(sum, 1640);
        assert_eq!(code_check(body), '3');
        // Organisation code M000100Y4: M=22·3 + 1·5 + Y=34·2 = 139, 139 mod 11 = 7, 11 − 7 = 4.
        assert_eq!(organisation_check(&body[8..16]), '4');
        let u = validate_uscc(STANDARD_EXAMPLE).unwrap();
        assert_eq!(u.as_str(), STANDARD_EXAMPLE);
        assert_eq!(u.registration_authority(), RegistrationAuthority::Industry);
        assert_eq!(u.category(), "企业");
        assert_eq!(u.division_code(), "350100");
        assert_eq!(u.organisation_code(), "M000100Y4");
        assert!(rejection("91350100M000100Y4Z").contains("character 18"));
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1;
        for expected in WEIGHTS {
            assert_eq!(w, expected);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn published_codes_pass() {
        for code in PUBLISHED {
            assert!(validate_uscc(code).is_ok(), "{code}: {:?}", validate_uscc(code));
        }
        assert_eq!(validate_uscc("123502001549897397").unwrap().category(), "事业单位");
        assert_eq!(validate_uscc("92500105MAC817EJ5D").unwrap().category(), "个体工商户");
    }

    #[test]
    fn every_single_character_change_fails() {
        for code in PUBLISHED {
            for pos in 0..18 {
                for c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
                    if code.as_bytes()[pos] == *c {
                        continue;
                    }
                    let mut changed = code.as_bytes().to_vec();
                    changed[pos] = *c;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(validate_uscc(&changed).is_err(), "{changed} (from {code}) was accepted");
                }
            }
        }
    }

    #[test]
    fn swapped_neighbours_fail() {
        let code = STANDARD_EXAMPLE.as_bytes();
        for pos in 0..17 {
            if code[pos] != code[pos + 1] {
                let mut swapped = code.to_vec();
                swapped.swap(pos, pos + 1);
                assert!(validate_uscc(std::str::from_utf8(&swapped).unwrap()).is_err(), "swap at {pos}");
            }
        }
    }

    #[test]
    fn identity_card_numbers_are_not_credit_codes() {
        // Both pass the check character alone (reported against other validators); the
        // category and the organisation-code check refuse them.
        assert!(rejection("362322198709086409").contains("character 2"));
        assert!(rejection("430407199312020025").contains("character 2"));
    }

    #[test]
    fn organisation_code_check_digit_is_enforced() {
        // Same first 16 characters, wrong 17th, 18th recomputed so only the GB 11714 check fails.
        let good = complete("91330102MA2AAAAA");
        assert!(validate_uscc(&good).is_ok(), "{good}");
        let mut bad = good.as_bytes()[..16].to_vec();
        bad.push(if good.as_bytes()[16] == b'1' { b'2' } else { b'1' });
        let check = code_check(&bad);
        bad.push(check as u8);
        let bad = String::from_utf8(bad).unwrap();
        let why = rejection(&bad);
        assert!(why.contains("GB 11714") && why.contains("character 17"), "{why}");
    }

    #[test]
    fn organisation_check_digit_x_and_0() {
        // Find bodies whose GB 11714 check is 10 (X) and 11 (0) and make sure both are accepted.
        let mut seen_x = false;
        let mut seen_0 = false;
        for n in 0..200u32 {
            let code = complete(&format!("91330102MA{n:06}"));
            match code.as_bytes()[16] {
                b'X' => seen_x = true,
                b'0' => seen_0 = true,
                _ => {}
            }
            assert!(validate_uscc(&code).is_ok(), "{code}");
        }
        assert!(seen_x && seen_0);
    }

    #[test]
    fn check_character_zero() {
        // A body whose weighted sum is a multiple of 31 has check character 0, not 31.
        let code = (0..1000u32).map(|n| complete(&format!("91330102MA{n:06}"))).find(|c| c.ends_with('0')).unwrap();
        assert!(validate_uscc(&code).is_ok(), "{code}");
    }

    #[test]
    fn lowercase_and_surrounding_spaces_are_normalised() {
        let u = validate_uscc("  91350100m000100y43\n").unwrap();
        assert_eq!(u.as_str(), STANDARD_EXAMPLE);
        assert_eq!(u.to_string(), STANDARD_EXAMPLE);
        // Inner spaces and hyphens are not.
        assert!(validate_uscc("913501 00M000100Y43").is_err());
        assert!(validate_uscc("91350100-M000100Y43").is_err());
    }

    #[test]
    fn wrong_length_refused() {
        assert!(rejection("").contains("required"));
        assert!(rejection("   ").contains("required"));
        assert!(rejection(&STANDARD_EXAMPLE[..17]).contains("got 17"));
        assert!(rejection(&format!("{STANDARD_EXAMPLE}0")).contains("got 19"));
        // Counted in characters, not bytes.
        assert!(rejection("９１３５０１００Ｍ０００１００Ｙ４３").contains("character 1"));
    }

    #[test]
    fn letters_outside_the_alphabet_refused() {
        for c in ['I', 'O', 'S', 'V', 'Z'] {
            let mut code = STANDARD_EXAMPLE.to_string();
            code.replace_range(12..13, &c.to_string());
            let why = rejection(&code);
            assert!(why.contains("character 13") && why.contains("not allowed"), "{why}");
        }
    }

    #[test]
    fn authority_and_category_table() {
        for first in "123456789ANY".chars() {
            let authority = RegistrationAuthority::from_code(first).unwrap();
            for second in "0123456789ABCDEFGHJKLMNPQRTUWXY".chars() {
                let code = complete(&format!("{first}{second}330102MA2AAAAA"));
                let listed = authority.categories().iter().any(|(c, _)| *c == second);
                assert_eq!(validate_uscc(&code).is_ok(), listed, "{code}");
            }
        }
        // Authorities that do not exist.
        for first in "0BCDEFGHJKLMPQRTUWX".chars() {
            let code = complete(&format!("{first}1330102MA2AAAAA"));
            assert!(rejection(&code).contains("character 1"), "{code}");
        }
        // 工商 has no category 9; 其他 only category 1; a law firm (司法行政, 律师执业机构) is fine.
        assert!(rejection(&complete("99330102MA2AAAAA")).contains("工商"));
        assert!(validate_uscc(&complete("Y2330102MA2AAAAA")).is_err());
        let firm = validate_uscc(&complete("31330000MD0000AA")).unwrap();
        assert_eq!(firm.registration_authority(), RegistrationAuthority::JusticeAdministration);
        assert_eq!(firm.category(), "律师执业机构");
    }

    #[test]
    fn division_code_must_be_digits() {
        let code = complete("9133A102MA2AAAAA");
        assert!(rejection(&code).contains("characters 3–8"), "{code}");
    }
}
