//! The op table: every operation the IR knows, defined once.
//!
//! Float methods are listed in [`math_ops!`] with their Rust method name and arity; lowering
//! parses `x.name(..)` / `f64::name(x, ..)` through [`Math::from_name`] and emission prints
//! [`Math::name`], so the accepted surface and the printed surface cannot drift apart.

use super::{LitId, SymId, VarId};

/// Defines [`Math`] with its method names and arities from one table.
macro_rules! math_ops {
    ($($variant:ident = $name:literal / $arity:literal,)*) => {
        /// A float method of the differentiable subset (`x.sin()`, `x.atan2(y)`, …).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum Math {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Math {
            /// Every method, in table order.
            pub const ALL: &'static [Math] = &[$(Math::$variant),*];

            /// The Rust method name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Math::$variant => $name,)*
                }
            }

            /// Number of operands, the receiver included.
            pub fn arity(self) -> usize {
                match self {
                    $(Math::$variant => $arity,)*
                }
            }

            /// The method called `name`, if it is in the subset.
            pub fn from_name(name: &str) -> Option<Math> {
                match name {
                    $($name => Some(Math::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

math_ops! {
    Sin = "sin" / 1,
    Cos = "cos" / 1,
    Tan = "tan" / 1,
    Asin = "asin" / 1,
    Acos = "acos" / 1,
    Atan = "atan" / 1,
    Atan2 = "atan2" / 2,
    Sinh = "sinh" / 1,
    Cosh = "cosh" / 1,
    Tanh = "tanh" / 1,
    Asinh = "asinh" / 1,
    Acosh = "acosh" / 1,
    Atanh = "atanh" / 1,
    Exp = "exp" / 1,
    Exp2 = "exp2" / 1,
    ExpM1 = "exp_m1" / 1,
    Ln = "ln" / 1,
    Log = "log" / 2,
    Log10 = "log10" / 1,
    Log2 = "log2" / 1,
    Ln1p = "ln_1p" / 1,
    Powi = "powi" / 2,
    Powf = "powf" / 2,
    Sqrt = "sqrt" / 1,
    Cbrt = "cbrt" / 1,
    Hypot = "hypot" / 2,
    Abs = "abs" / 1,
    Signum = "signum" / 1,
    Max = "max" / 2,
    Min = "min" / 2,
    Clamp = "clamp" / 3,
    MulAdd = "mul_add" / 3,
    Recip = "recip" / 1,
    Floor = "floor" / 1,
    Ceil = "ceil" / 1,
    Round = "round" / 1,
    Trunc = "trunc" / 1,
    Fract = "fract" / 1,
    ToDegrees = "to_degrees" / 1,
    ToRadians = "to_radians" / 1,
}

impl Math {
    /// Methods that cost more than a tape's push and pop (a libm call): inside a loop, the
    /// reverse sweep reads their value from a tape rather than computing it again.
    pub fn is_costly(self) -> bool {
        use Math::{
            Acos, Acosh, Asin, Asinh, Atan, Atan2, Atanh, Cbrt, Cos, Cosh, Exp, Exp2, ExpM1, Hypot,
            Ln, Ln1p, Log, Log2, Log10, Powf, Sin, Sinh, Tan, Tanh,
        };
        matches!(
            self,
            Sin | Cos
                | Tan
                | Asin
                | Acos
                | Atan
                | Atan2
                | Sinh
                | Cosh
                | Tanh
                | Asinh
                | Acosh
                | Atanh
                | Exp
                | Exp2
                | ExpM1
                | Ln
                | Log
                | Log10
                | Log2
                | Ln1p
                | Powf
                | Cbrt
                | Hypot
        )
    }

    /// Which operands are floats: all of them except the exponent of `powi`.
    pub fn float_operand(self, index: usize) -> bool {
        !(self == Math::Powi && index == 1)
    }
}

/// A comparison.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Cmp {
    /// The Rust operator.
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
        }
    }
}

/// An integer-only operator (never active).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bit {
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

impl Bit {
    /// The Rust operator.
    pub fn symbol(self) -> &'static str {
        match self {
            Bit::And => "&",
            Bit::Or => "|",
            Bit::Xor => "^",
            Bit::Shl => "<<",
            Bit::Shr => ">>",
        }
    }
}

/// An IR operation. Leaves have no operands; every other op reads its operands as node ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// The i-th parameter of the function being built.
    Param(u32),
    /// A literal (float, integer or bool).
    Lit(LitId),
    /// An opaque constant expression (`PI`, `f64::EPSILON`, a user `const`): never active.
    Const(SymId),
    /// A placeholder on paths that never use it (the value of an arm that returned).
    Undef,
    /// A join value, defined by the outputs of a `Branch` statement.
    Phi(u32),
    /// The current value of a mutable variable.
    ReadVar(VarId),
    /// `-a`
    Neg,
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a % b`
    Rem,
    /// A float method.
    Math(Math),
    /// A comparison, giving a `bool`.
    Cmp(Cmp),
    /// `!a`
    Not,
    /// `a && b` (short-circuit: `b` is evaluated only when needed)
    And,
    /// `a || b`
    Or,
    /// `a.is_nan()`: the strong zero's test of a product, a condition printed where it is used.
    IsNan,
    /// An integer bit operator.
    Bit(Bit),
    /// `if c { a } else { b }` on values that are both already computed.
    Select,
    /// `a as T`; the symbol holds the target type.
    Cast(SymId),
    /// A call `path(args)` differentiated through `path_pullback` / `path_jvp`.
    Call(SymId),
    /// `path_jvp(args…, tangents…)`: the value and tangent of a call, as a pair.
    Jvp(SymId),
    /// A call whose arguments are all inactive: a constant, evaluated as written.
    ConstCall(SymId),
    /// A method on an inactive receiver (`n.pow(2)`, `v.len()`): a constant.
    Method(SymId),
    /// Field access on an inactive value (`cfg.scale`, `pair.0`).
    Field(SymId),
    /// `grad::no_grad(a)`: the value of `a`, with no derivative.
    NoGrad,
    /// `a[i]`: an element of an array, or a row of a 2-D array.
    Index,
    /// `a.len()`
    Len,
    /// `[a, b, c]`
    ArrayLit,
    /// `[a; N]`; the symbol holds `N`.
    Repeat(SymId),
    /// `vec![a; n]`
    VecRepeat,
    /// `&a`, to pass an array to a call.
    Ref,
    /// `*a` of a reference to an array: an owned copy of it (printed `a.clone()`).
    Copy,
    /// An array of zeros shaped like the operand (an adjoint's initial value).
    Zeros,
    /// The sum of every element of an array (the adjoint of `[x; N]` with respect to `x`).
    SumAll,
    /// The variable of a loop, defined by its `Loop` statement.
    LoopIndex(u32),
    /// The value a tape gives back in the reverse sweep.
    Pop(VarId),
}

impl Op {
    /// Leaves have no let-binding of their own: they are printed where they are used.
    pub fn is_leaf(self) -> bool {
        matches!(self, Op::Param(_) | Op::Lit(_) | Op::Const(_) | Op::Undef)
    }

    /// Ops that are never shared: values that depend on where they are evaluated, and array
    /// constructors, each of which makes storage of its own (a `Vec` is moved, not copied).
    pub fn is_positional(self) -> bool {
        matches!(
            self,
            Op::Phi(_)
                | Op::ReadVar(_)
                | Op::LoopIndex(_)
                | Op::Pop(_)
                | Op::ArrayLit
                | Op::Repeat(_)
                | Op::VecRepeat
                | Op::Zeros
        )
    }

    /// Boolean logic and comparisons: cheap, and printed inline at each use so that `&&`
    /// and `||` keep their short-circuit evaluation.
    pub fn is_condition(self) -> bool {
        matches!(self, Op::Cmp(_) | Op::Not | Op::And | Op::Or | Op::IsNan)
    }

    /// How many operands the op takes, where that is fixed (passes index operands by
    /// position, so the verifier checks it).
    pub fn arity(self) -> Option<usize> {
        Some(match self {
            Op::Param(_)
            | Op::Lit(_)
            | Op::Const(_)
            | Op::Undef
            | Op::Phi(_)
            | Op::ReadVar(_)
            | Op::LoopIndex(_)
            | Op::Pop(_) => 0,
            Op::Neg
            | Op::Not
            | Op::IsNan
            | Op::Cast(_)
            | Op::Field(_)
            | Op::NoGrad
            | Op::Len
            | Op::Repeat(_)
            | Op::Ref
            | Op::Copy
            | Op::Zeros
            | Op::SumAll => 1,
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Cmp(_)
            | Op::And
            | Op::Or
            | Op::Bit(_)
            | Op::Index
            | Op::VecRepeat => 2,
            Op::Select => 3,
            Op::Math(m) => m.arity(),
            Op::Call(_) | Op::Jvp(_) | Op::ConstCall(_) | Op::Method(_) | Op::ArrayLit => {
                return None;
            }
        })
    }

    /// Ops printed at every use rather than bound: conditions, and `.len()`.
    pub fn is_cheap(self) -> bool {
        self.is_condition() || self == Op::Len
    }
}
