{#-
    Connected components of an undirected graph: `nodes` (identifier_id) and `edges` (from_id, to_id,
    both directions). Every node is labelled with the smallest identifier_id of its component.

    Each round, over the whole graph: a node takes the smallest label among its own and its
    neighbours' (and a label's node takes the smallest label seen across an edge from a node it
    labels: hooking), then every node jumps to its label's label (pointer jumping). Labels never
    rise, so it terminates; at the end no edge joins two labels, so each component carries its
    minimum. Pointer jumping makes long chains take a logarithmic number of rounds, where plain
    propagation takes one round per link.

    The rounds run as statements on both engines, each writing the whole labelling to a table
    (<model>__labels_a/_b in turn) until a round lowers no label (at most `max_rounds`); the model's
    post-hook (connected_components_drop_scratch) drops them. Every statement is a join or an
    aggregate, which DuckDB spills to disk: a recursive CTE's state does not (2M customers ran out of
    memory in one). Unit tests, whose inputs exist only as CTEs, run the same round
    (connected_components_round) as a recursive CTE on DuckDB.
-#}
{% macro connected_components(nodes, edges, max_rounds=64) -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return(adapter.dispatch('connected_components_in_one_query', 'mercator')(nodes, edges)) }}
    {%- endif -%}
    {%- set state = namespace(current=0, converged=false) -%}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set scratch = connected_components_scratch() -%}
        {%- do run_query('drop table if exists ' ~ scratch[0]) -%}
        {%- do run_query(
            'create table ' ~ scratch[0] ~ connected_components_table_format() ~ ' as select nodes.identifier_id,'
            ~ ' nodes.identifier_id as component_id from ' ~ nodes ~ ' as nodes'
        ) -%}
        {%- for round in range(max_rounds) -%}
            {%- set current, following = scratch[state.current], scratch[1 - state.current] -%}
            {%- do run_query('drop table if exists ' ~ following) -%}
            {%- do run_query(
                'create table ' ~ following ~ connected_components_table_format() ~ ' as with '
                ~ connected_components_round(current, edges)
                ~ ' select jumped.identifier_id, jumped.component_id from jumped'
            ) -%}
            {%- set lowered = run_query(
                'select count(*) from ' ~ following ~ ' as following inner join ' ~ current ~ ' as current'
                ~ ' on following.identifier_id = current.identifier_id'
                ~ ' where following.component_id < current.component_id'
            ).columns[0].values()[0] -%}
            {%- set state.current = 1 - state.current -%}
            {%- if lowered == 0 -%}
                {%- set state.converged = true -%}
                {%- break -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not state.converged -%}
            {{ exceptions.raise_compiler_error("connected_components: labels still falling after " ~ max_rounds ~ " rounds") }}
        {%- endif -%}
    {%- endif %}
select
    labels.identifier_id,
    labels.component_id
from {{ connected_components_scratch()[state.current] }} as labels
{%- endmacro %}

{#- The two label tables the rounds write in turn, beside the model. -#}
{% macro connected_components_scratch() -%}
    {{ return([
        this.incorporate(path={'identifier': this.identifier ~ '__labels_a'}),
        this.incorporate(path={'identifier': this.identifier ~ '__labels_b'}),
    ]) }}
{%- endmacro %}

{#- Drop the label tables: the model's post-hook, once the model is built. -#}
{% macro connected_components_drop_scratch() -%}
    {%- for table in connected_components_scratch() %}
        {%- do run_query('drop table if exists ' ~ table) -%}
    {%- endfor -%}
{%- endmacro %}

{% macro connected_components_table_format() -%}
    {{ return(adapter.dispatch('connected_components_table_format', 'mercator')()) }}
{%- endmacro %}

{% macro default__connected_components_table_format() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__connected_components_table_format() -%}
    {{ return(' using parquet') }}
{%- endmacro %}

{#- The rounds as one recursive CTE (USING KEY keeps one row per node), for unit tests on DuckDB. -#}
{% macro default__connected_components_in_one_query(nodes, edges) -%}
    {{ exceptions.raise_compiler_error("connected_components in unit tests needs recursive CTEs with USING KEY (DuckDB); adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__connected_components_in_one_query(nodes, edges) -%}
with recursive labels (identifier_id, component_id) using key (identifier_id) as (

    select
        nodes.identifier_id,
        nodes.identifier_id as component_id
    from {{ nodes }} as nodes

    union

    (
        with current_labels as (

            select
                recurring_labels.identifier_id,
                recurring_labels.component_id
            from recurring.labels as recurring_labels
            where exists (select 1 from labels)

        ),

        {{ connected_components_round('current_labels', edges) | indent(8) }}

        select
            jumped.identifier_id,
            jumped.component_id
        from jumped
        inner join current_labels on jumped.identifier_id = current_labels.identifier_id
        where jumped.component_id < current_labels.component_id
    )

),

final as (

    select
        labels.identifier_id,
        labels.component_id
    from labels

)

select * from final
{%- endmacro %}


{#-
    One round over a labelling (identifier_id, component_id), as CTEs (`candidates`, `hooked`,
    `jumped`) to follow a `with`: hooking, then pointer jumping; `jumped` is the new labelling.
-#}
{% macro connected_components_round(labels, edges) -%}
candidates as (

    select
        round_labels.identifier_id,
        round_labels.component_id
    from {{ labels }} as round_labels

    union all

    select
        edges.from_id as identifier_id,
        to_labels.component_id
    from {{ edges }} as edges
    inner join {{ labels }} as to_labels on edges.to_id = to_labels.identifier_id

    union all

    select
        from_labels.component_id as identifier_id,
        to_labels.component_id
    from {{ edges }} as edges
    inner join {{ labels }} as from_labels on edges.from_id = from_labels.identifier_id
    inner join {{ labels }} as to_labels on edges.to_id = to_labels.identifier_id
    where to_labels.component_id < from_labels.component_id

),

hooked as (

    select
        candidates.identifier_id,
        min(candidates.component_id) as component_id
    from candidates
    group by candidates.identifier_id

),

jumped as (

    select
        hooked.identifier_id,
        parents.component_id
    from hooked
    inner join hooked as parents on hooked.component_id = parents.identifier_id

)
{%- endmacro %}
