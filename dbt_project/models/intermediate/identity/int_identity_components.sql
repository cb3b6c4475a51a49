{#- The connected component of every identifier that is not excluded (see macro connected_components). -#}
{{ config(post_hook="{{ connected_components_drop_scratch() }}") }}
{%- set nodes -%}
    (select identifier_id from {{ ref('int_identity_identifiers') }} where not is_excluded)
{%- endset -%}
{{ connected_components(nodes, ref('int_identity_edges')) }}
