"""Stand-ins for dbt's cross-database macros (`dbt.concat`, ...) when sqlfluff renders models with
its jinja templater: they return the DuckDB SQL the real macros produce."""


def concat(fields):
    return "concat(" + ", ".join(fields) + ")"


def hash(field):  # noqa: A001 - the dbt macro's name
    return f"md5(cast({field} as varchar))"


def cast(field, type_):
    return f"cast({field} as {type_})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def current_timestamp():
    return "now()"


def escape_single_quotes(value):
    return value.replace("'", "''")


def type_string():
    return "varchar"


def type_timestamp():
    return "timestamp"


def type_numeric():
    return "decimal(28, 6)"


def type_int():
    return "integer"


def type_bigint():
    return "bigint"


def type_float():
    return "double"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def split_part(string_text, delimiter_text, part_number):
    return f"split_part({string_text}, {delimiter_text}, {part_number})"


def bool_or(expression):
    return f"bool_or({expression})"
