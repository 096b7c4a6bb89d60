//! `str_enum!`: an enum whose values are fixed strings (statuses, roles, periods).
//!
//! ```
//! partnerd_domain::str_enum! {
//!     /// How a thing is going.
//!     pub enum Mood { Calm = "calm", Busy = "busy" }
//! }
//! assert_eq!(Mood::parse("busy"), Ok(Mood::Busy));
//! assert_eq!(Mood::Calm.as_str(), "calm");
//! assert_eq!(Mood::ALL, [Mood::Calm, Mood::Busy]);
//! assert_eq!(Mood::parse("x").unwrap_err(), "must be one of: calm, busy (got 'x')");
//! assert_eq!(serde_json::to_string(&Mood::Busy).unwrap(), "\"busy\"");
//! ```
//!
//! It derives `Debug, Clone, Copy, PartialEq, Eq, Hash` and gives `ALL` and `NAMES` (in
//! declaration order), `as_str`, `parse`, `Display`, `FromStr`, and serde through the string.
//! A refused string reads "must be one of: a, b (got 'x')"; `unknown = path::to::fn` names a
//! `fn(&str, &[&str]) -> String` that words it otherwise.

/// The default wording of a refused string.
pub fn one_of(got: &str, names: &[&str]) -> String {
    format!("must be one of: {} (got '{}')", names.join(", "), crate::validation::echo(got))
}

#[doc(hidden)]
pub mod __private {
    pub use serde;
}

#[macro_export]
macro_rules! str_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident $(: unknown = $unknown:path)? {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            $vis const ALL: [$name; <[&str]>::len(&[$($text),+])] = [$($name::$variant),+];
            /// Every value's string, in declaration order.
            $vis const NAMES: [&'static str; <[&str]>::len(&[$($text),+])] = [$($text),+];

            $vis const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The value spelled `s` exactly, or why not.
            $vis fn parse(s: &str) -> ::std::result::Result<Self, String> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    _ => Err($crate::str_enum!(@unknown s, &Self::NAMES $(, $unknown)?)),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> ::std::result::Result<Self, String> {
                Self::parse(s)
            }
        }

        impl $crate::str_enum::__private::serde::Serialize for $name {
            fn serialize<S: $crate::str_enum::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::str_enum::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::str_enum::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s: ::std::borrow::Cow<'de, str> =
                    $crate::str_enum::__private::serde::Deserialize::deserialize(deserializer)?;
                Self::parse(&s).map_err(<D::Error as $crate::str_enum::__private::serde::de::Error>::custom)
            }
        }
    };
    (@unknown $s:expr, $names:expr) => { $crate::str_enum::one_of($s, $names) };
    (@unknown $s:expr, $names:expr, $unknown:path) => { $unknown($s, $names) };
}

#[cfg(test)]
mod tests {
    fn odd_wording(got: &str, names: &[&str]) -> String {
        format!("no '{got}' among {}", names.len())
    }

    crate::str_enum! {
        enum Colour: unknown = odd_wording { Red = "red", DeepBlue = "deep_blue" }
    }

    crate::str_enum! {
        #[derive(PartialOrd, Ord)]
        enum Size { Small = "S", Large = "L", }
    }

    #[test]
    fn values_round_trip_through_their_strings() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(c.as_str().parse::<Colour>(), Ok(c));
        }
        assert_eq!(Colour::NAMES, ["red", "deep_blue"]);
        assert_eq!(Colour::parse("Red").unwrap_err(), "no 'Red' among 2", "exact spelling, own wording");
        assert_eq!(Size::parse("M").unwrap_err(), "must be one of: S, L (got 'M')");
        assert!(Size::Small < Size::Large, "extra derives pass through");
        assert_eq!(Size::ALL.map(Size::as_str), Size::NAMES);
    }

    #[test]
    fn serde_goes_through_the_string() {
        assert_eq!(serde_json::to_value(Colour::DeepBlue).unwrap(), serde_json::json!("deep_blue"));
        let c: Colour = serde_json::from_str("\"red\"").unwrap();
        assert_eq!(c, Colour::Red);
        let e = serde_json::from_str::<Colour>("\"green\"").unwrap_err().to_string();
        assert!(e.contains("no 'green' among 2"), "{e}");
        assert!(serde_json::from_str::<Size>("3").is_err());
    }
}
