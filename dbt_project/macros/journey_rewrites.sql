{#-
    Crash-safe incremental rewrites per journey. int_journey_members is append-only: each run adds a
    row for every member whose journey or state changed (the latest row per member is its current
    journey). The four models keyed by journey_key (int_customer_touchpoints,
    int_attribution_path_touches, int_attribution_journeys, int_attribution_rule_credits) each store
    in column members_assigned_at the latest int_journey_members run their rows reflect, and
    rewrite every journey changed after that watermark, so a run that stopped part-way (members
    written, the models after it not) is caught up by the next one.

    `journey_rewrites(relation)`: the journey keys the incremental model with table `relation`
    rewrites: every journey_key and previous_journey_key of the member rows assigned after its
    watermark, and every journey the table holds when int_journey_members was rebuilt since (its
    rows then all start after the watermark: a full refresh of int_journey_members alone leaves no
    record of the journeys that emptied). Rendered at run time, with `relation` the table being
    built (the model's rewrites and its delete step: config delete_keys_in, macros/delete_keys_in.sql);
    none on a full build.
    A model calling it declares `-- depends_on: {{ ref('int_journey_members') }}` (the call is
    not rendered when dbt parses the model).
-#}
{% macro journey_rewrites(relation) -%}
    {%- if not is_incremental() -%}
    select cast(null as {{ dbt.type_string() }}) as journey_key where 1 = 0
    {%- else -%}
    {%- set members = ref('int_journey_members') -%}
    {%- set watermark = journey_watermark(relation) -%}
    select journey_key from {{ members }}
    where assigned_at > {{ watermark }} and journey_key is not null
    union
    select previous_journey_key as journey_key from {{ members }}
    where assigned_at > {{ watermark }} and previous_journey_key is not null
    union
    select journey_key from {{ relation }}
    where {{ watermark }} < (select min(assigned_at) from {{ members }})
    {%- endif -%}
{%- endmacro %}

{#-
    The watermark of a model keyed by journey_key (the latest members_assigned_at of `relation`;
    1900-01-01 when it has no rows), or with `column='assigned_at'` the latest run of
    int_journey_members. A model stamps its rows with its parent's watermark (int_customer_touchpoints:
    int_journey_members's latest run), so it never claims more than the rows it read reflect, even
    when built without its parent (`--select`).
-#}
{% macro journey_watermark(relation, column='members_assigned_at') -%}
    (select coalesce(max({{ column }}), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}) from {{ relation }})
{%- endmacro %}
