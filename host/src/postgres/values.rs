//! Values between the guest and PostgreSQL: parameters as SQL, rows and
//! their column types back as `spin:postgres` values (ranges, intervals,
//! decimals and dates included).

use std::error::Error as StdError;

use bytes::BytesMut;
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use postgres_types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use rust_decimal::Decimal;

use super::source_text;
use crate::bindings::postgres::{DbDataType, DbValue, Error, Interval, ParameterValue, RangeBoundKind, Row};

type BoxError = Box<dyn StdError + Sync + Send>;
type RangeOut<U> = (Option<(U, RangeBoundKind)>, Option<(U, RangeBoundKind)>);

/// A guest parameter, checked against the statement's parameter type by
/// tokio-postgres before it is written.
#[derive(Debug)]
pub(super) enum Param {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    Timestamp(i64),
    Uuid(uuid::Uuid),
    Json(serde_json::Value),
    Decimal(Decimal),
    RangeI32(PgRange<i32>),
    RangeI64(PgRange<i64>),
    RangeDecimal(PgRange<Decimal>),
    ArrayI32(Vec<Option<i32>>),
    ArrayI64(Vec<Option<i64>>),
    ArrayDecimal(Vec<Option<Decimal>>),
    ArrayStr(Vec<Option<String>>),
    Interval(PgInterval),
    Null,
}

fn bad(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::BadParameter(format!("invalid {what}: {detail}"))
}

fn decimal(text: &str) -> Result<Decimal, Error> {
    text.parse::<Decimal>().map_err(|e| bad("decimal", e))
}

fn bound<T, U>(b: Option<(T, RangeBoundKind)>, f: impl Fn(T) -> Result<U, Error>) -> Result<Bound<U>, Error> {
    Ok(match b {
        None => Bound::Unbounded,
        Some((v, RangeBoundKind::Inclusive)) => Bound::Inclusive(f(v)?),
        Some((v, RangeBoundKind::Exclusive)) => Bound::Exclusive(f(v)?),
    })
}

impl TryFrom<ParameterValue> for Param {
    type Error = Error;

    fn try_from(value: ParameterValue) -> Result<Self, Error> {
        Ok(match value {
            ParameterValue::Boolean(v) => Param::Bool(v),
            ParameterValue::Int8(v) => Param::I8(v),
            ParameterValue::Int16(v) => Param::I16(v),
            ParameterValue::Int32(v) => Param::I32(v),
            ParameterValue::Int64(v) => Param::I64(v),
            ParameterValue::Floating32(v) => Param::F32(v),
            ParameterValue::Floating64(v) => Param::F64(v),
            ParameterValue::Str(v) => Param::Str(v),
            ParameterValue::Binary(v) => Param::Bytes(v),
            ParameterValue::Date((y, m, d)) => Param::Date(
                NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or_else(|| bad("date", format!("{y}-{m}-{d}")))?,
            ),
            ParameterValue::Time((h, m, s, ns)) => Param::Time(
                NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
                    .ok_or_else(|| bad("time", format!("{h}:{m}:{s}.{ns}")))?,
            ),
            ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => {
                let date = NaiveDate::from_ymd_opt(y, mo.into(), d.into()).ok_or_else(|| bad("datetime", "date"))?;
                let time = NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                    .ok_or_else(|| bad("datetime", "time"))?;
                Param::DateTime(NaiveDateTime::new(date, time))
            }
            ParameterValue::Timestamp(v) => Param::Timestamp(v),
            ParameterValue::Uuid(v) => Param::Uuid(v.parse().map_err(|e| bad("uuid", e))?),
            ParameterValue::Jsonb(v) => Param::Json(serde_json::from_slice(&v).map_err(|e| bad("jsonb", e))?),
            ParameterValue::Decimal(v) => Param::Decimal(decimal(&v)?),
            ParameterValue::RangeInt32((lo, hi)) => Param::RangeI32(PgRange(bound(lo, Ok)?, bound(hi, Ok)?)),
            ParameterValue::RangeInt64((lo, hi)) => Param::RangeI64(PgRange(bound(lo, Ok)?, bound(hi, Ok)?)),
            ParameterValue::RangeDecimal((lo, hi)) => {
                Param::RangeDecimal(PgRange(bound(lo, |s| decimal(&s))?, bound(hi, |s| decimal(&s))?))
            }
            ParameterValue::ArrayInt32(v) => Param::ArrayI32(v),
            ParameterValue::ArrayInt64(v) => Param::ArrayI64(v),
            ParameterValue::ArrayDecimal(v) => {
                Param::ArrayDecimal(v.iter().map(|s| s.as_deref().map(decimal).transpose()).collect::<Result<_, _>>()?)
            }
            ParameterValue::ArrayStr(v) => Param::ArrayStr(v),
            ParameterValue::Interval(i) => {
                Param::Interval(PgInterval { micros: i.micros, days: i.days, months: i.months })
            }
            ParameterValue::DbNull => Param::Null,
        })
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Param::Bool(v) => v.to_sql_checked(ty, out),
            Param::I8(v) => v.to_sql_checked(ty, out),
            Param::I16(v) => v.to_sql_checked(ty, out),
            Param::I32(v) => v.to_sql_checked(ty, out),
            Param::I64(v) => v.to_sql_checked(ty, out),
            Param::F32(v) => v.to_sql_checked(ty, out),
            Param::F64(v) => v.to_sql_checked(ty, out),
            Param::Str(v) => v.to_sql_checked(ty, out),
            Param::Bytes(v) => v.to_sql_checked(ty, out),
            Param::Date(v) => v.to_sql_checked(ty, out),
            Param::Time(v) => v.to_sql_checked(ty, out),
            Param::DateTime(v) if *ty == Type::TIMESTAMPTZ => v.and_utc().to_sql_checked(ty, out),
            Param::DateTime(v) => v.to_sql_checked(ty, out),
            Param::Timestamp(v) if *ty == Type::TIMESTAMP || *ty == Type::TIMESTAMPTZ => {
                let at = chrono::DateTime::from_timestamp(*v, 0).ok_or("timestamp out of range")?;
                if *ty == Type::TIMESTAMP { at.naive_utc().to_sql(ty, out) } else { at.to_sql(ty, out) }
            }
            Param::Timestamp(v) => v.to_sql_checked(ty, out),
            Param::Uuid(v) => v.to_sql_checked(ty, out),
            Param::Json(v) => v.to_sql_checked(ty, out),
            Param::Decimal(v) => v.to_sql_checked(ty, out),
            Param::RangeI32(v) => range_to_sql(v, ty, &Type::INT4_RANGE, out),
            Param::RangeI64(v) => range_to_sql(v, ty, &Type::INT8_RANGE, out),
            Param::RangeDecimal(v) => range_to_sql(v, ty, &Type::NUM_RANGE, out),
            Param::ArrayI32(v) => v.to_sql_checked(ty, out),
            Param::ArrayI64(v) => v.to_sql_checked(ty, out),
            Param::ArrayDecimal(v) => v.to_sql_checked(ty, out),
            Param::ArrayStr(v) => v.to_sql_checked(ty, out),
            Param::Interval(v) => v.to_sql_checked(ty, out),
            Param::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

// ---- ranges and intervals ---------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Bound<T> {
    Inclusive(T),
    Exclusive(T),
    Unbounded,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct PgRange<T>(Bound<T>, Bound<T>);

fn range_to_sql<T: ToSql>(range: &PgRange<T>, ty: &Type, want: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if ty != want {
        return Err(format!("cannot convert a range parameter to {ty}").into());
    }
    let postgres_types::Kind::Range(element) = ty.kind() else {
        return Err(format!("{ty} is not a range").into());
    };
    let write = |b: &Bound<T>,
                 out: &mut BytesMut|
     -> Result<postgres_protocol::types::RangeBound<postgres_protocol::IsNull>, BoxError> {
        let to_protocol = |n| match n {
            IsNull::Yes => postgres_protocol::IsNull::Yes,
            IsNull::No => postgres_protocol::IsNull::No,
        };
        Ok(match b {
            Bound::Inclusive(v) => {
                postgres_protocol::types::RangeBound::Inclusive(to_protocol(v.to_sql(element, out)?))
            }
            Bound::Exclusive(v) => {
                postgres_protocol::types::RangeBound::Exclusive(to_protocol(v.to_sql(element, out)?))
            }
            Bound::Unbounded => postgres_protocol::types::RangeBound::Unbounded,
        })
    };
    postgres_protocol::types::range_to_sql(|out| write(&range.0, out), |out| write(&range.1, out), out)?;
    Ok(IsNull::No)
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let postgres_types::Kind::Range(element) = ty.kind() else {
            return Err(format!("{ty} is not a range").into());
        };
        let read = |b: postgres_protocol::types::RangeBound<Option<&'a [u8]>>| -> Result<Bound<T>, BoxError> {
            Ok(match b {
                postgres_protocol::types::RangeBound::Inclusive(Some(v)) => Bound::Inclusive(T::from_sql(element, v)?),
                postgres_protocol::types::RangeBound::Exclusive(Some(v)) => Bound::Exclusive(T::from_sql(element, v)?),
                _ => Bound::Unbounded,
            })
        };
        Ok(match postgres_protocol::types::range_from_sql(raw)? {
            // The interface has no empty range; the nearest is (x, x).
            postgres_protocol::types::Range::Empty => PgRange(Bound::Unbounded, Bound::Unbounded),
            postgres_protocol::types::Range::Nonempty(lo, hi) => PgRange(read(lo)?, read(hi)?),
        })
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), postgres_types::Kind::Range(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PgInterval {
    micros: i64,
    days: i32,
    months: i32,
}

impl ToSql for PgInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.extend_from_slice(&self.micros.to_be_bytes());
        out.extend_from_slice(&self.days.to_be_bytes());
        out.extend_from_slice(&self.months.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for PgInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let [m0, m1, m2, m3, m4, m5, m6, m7, d0, d1, d2, d3, o0, o1, o2, o3] = bytes;
        Ok(PgInterval {
            micros: i64::from_be_bytes([m0, m1, m2, m3, m4, m5, m6, m7]),
            days: i32::from_be_bytes([d0, d1, d2, d3]),
            months: i32::from_be_bytes([o0, o1, o2, o3]),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// Any column, as its raw binary value.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

// ---- columns ----------------------------------------------------------

pub(super) fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB | Type::JSON => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

fn get<'a, T: FromSql<'a>>(row: &'a tokio_postgres::Row, i: usize) -> Result<Option<T>, Error> {
    row.try_get::<_, Option<T>>(i).map_err(|e| Error::ValueConversionFailed(source_text(&e)))
}

pub(super) fn convert_row(row: &tokio_postgres::Row) -> Result<Row, Error> {
    (0..row.len()).map(|i| convert_value(row, i)).collect()
}

fn range_out<T, U>(range: PgRange<T>, f: impl Fn(T) -> U) -> RangeOut<U> {
    let one = |b: Bound<T>| match b {
        Bound::Inclusive(v) => Some((f(v), RangeBoundKind::Inclusive)),
        Bound::Exclusive(v) => Some((f(v), RangeBoundKind::Exclusive)),
        Bound::Unbounded => None,
    };
    (one(range.0), one(range.1))
}

fn convert_value(row: &tokio_postgres::Row, i: usize) -> Result<DbValue, Error> {
    let ty = row.columns()[i].type_().clone();
    let value = match ty {
        Type::BOOL => get::<bool>(row, i)?.map(DbValue::Boolean),
        Type::CHAR => get::<i8>(row, i)?.map(DbValue::Int8),
        Type::INT2 => get::<i16>(row, i)?.map(DbValue::Int16),
        Type::INT4 => get::<i32>(row, i)?.map(DbValue::Int32),
        Type::INT8 => get::<i64>(row, i)?.map(DbValue::Int64),
        Type::FLOAT4 => get::<f32>(row, i)?.map(DbValue::Floating32),
        Type::FLOAT8 => get::<f64>(row, i)?.map(DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get::<String>(row, i)?.map(DbValue::Str),
        Type::BYTEA => get::<Vec<u8>>(row, i)?.map(DbValue::Binary),
        Type::DATE => get::<NaiveDate>(row, i)?.map(|d| DbValue::Date(date_tuple(d))),
        Type::TIME => get::<NaiveTime>(row, i)?.map(|t| DbValue::Time(time_tuple(t))),
        Type::TIMESTAMP => get::<NaiveDateTime>(row, i)?.map(|t| DbValue::Datetime(datetime_tuple(t))),
        Type::TIMESTAMPTZ => {
            get::<chrono::DateTime<chrono::Utc>>(row, i)?.map(|t| DbValue::Datetime(datetime_tuple(t.naive_utc())))
        }
        Type::UUID => get::<uuid::Uuid>(row, i)?.map(|u| DbValue::Uuid(u.to_string())),
        Type::JSONB | Type::JSON => {
            get::<serde_json::Value>(row, i)?.map(|v| DbValue::Jsonb(v.to_string().into_bytes()))
        }
        Type::NUMERIC => get::<Decimal>(row, i)?.map(|d| DbValue::Decimal(d.to_string())),
        Type::INT4_RANGE => get::<PgRange<i32>>(row, i)?.map(|r| DbValue::RangeInt32(range_out(r, |v| v))),
        Type::INT8_RANGE => get::<PgRange<i64>>(row, i)?.map(|r| DbValue::RangeInt64(range_out(r, |v| v))),
        Type::NUM_RANGE => {
            get::<PgRange<Decimal>>(row, i)?.map(|r| DbValue::RangeDecimal(range_out(r, |v| v.to_string())))
        }
        Type::INT4_ARRAY => get::<Vec<Option<i32>>>(row, i)?.map(DbValue::ArrayInt32),
        Type::INT8_ARRAY => get::<Vec<Option<i64>>>(row, i)?.map(DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => get::<Vec<Option<Decimal>>>(row, i)?
            .map(|v| DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get::<Vec<Option<String>>>(row, i)?.map(DbValue::ArrayStr)
        }
        Type::INTERVAL => get::<PgInterval>(row, i)?
            .map(|v| DbValue::Interval(Interval { micros: v.micros, days: v.days, months: v.months })),
        _ => get::<Raw>(row, i)?.map(|r| DbValue::Unsupported(r.0)),
    };
    Ok(value.unwrap_or(DbValue::DbNull))
}

fn date_tuple(d: NaiveDate) -> (i32, u8, u8) {
    (d.year(), d.month() as u8, d.day() as u8)
}

fn time_tuple(t: NaiveTime) -> (u8, u8, u8, u32) {
    (t.hour() as u8, t.minute() as u8, t.second() as u8, t.nanosecond())
}

fn datetime_tuple(t: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (y, mo, d) = date_tuple(t.date());
    let (h, mi, s, ns) = time_tuple(t.time());
    (y, mo, d, h, mi, s, ns)
}
