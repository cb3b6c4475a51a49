{#-
    The connected component of every identifier that is not excluded (see macro connected_components).
    Incremental: the identifiers of the link groups the records logged since the last build touch
    (macros/identity_changes.sql), and every identifier of their previous components, are labelled
    again; no link leads out of that set (a link that did not change joins two identifiers of one
    previous component), so the rest keeps its labels.
-#}
{{ config(
    materialized='incremental',
    unique_key='identifier_id',
    incremental_strategy='delete+insert',
    delete_keys_in='identity_relabelled_identifiers',
    post_hook="{{ connected_components_drop_scratch() }}",
) }}
{%- set scope = 'true' -%}
{%- if is_incremental() -%}
    {%- set scope = 'identifier_id in (' ~ identity_relabelled_identifiers(this) ~ ')' -%}
{%- endif -%}
{%- set nodes -%}
    (select identifier_id from {{ ref('int_identity_identifiers') }} where not is_excluded and {{ scope }})
{%- endset -%}
-- depends_on: {{ ref('int_identity_observation_log') }}
with

labels as (

    {{ connected_components(nodes, ref('int_identity_edges')) | indent(4) }}

),

final as (

    select
        labels.identifier_id,
        labels.component_id,
        {{ identity_stamp() }} as loaded_at
    from labels

)

select * from final
