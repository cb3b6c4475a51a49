{#-
    Identifiers kept out of linking:
    - deny_list: listed in the seed identity_deny_list;
    - shared: seen with more than var identity_max_persons_per_identifier distinct values of one
      person-naming type (email, phone, customer_id, contact_id, loyalty_id);
    - unlinked_frequent: an email or phone never seen with another identifier, yet alone on more
      than var identity_max_records_per_unlinked_identifier records (a store's own phone typed by
      cashiers, noemail@...): nothing tells its records apart, so they would all be one person.
-#}
{%- set max_persons = var('identity_max_persons_per_identifier') -%}
{%- set max_unlinked_records = var('identity_max_records_per_unlinked_identifier') -%}
with

usage as (

    select * from {{ ref('int_identity_identifier_usage') }}

),

deny_list as (

    select
        reason,
        lower(trim(identifier_type)) as identifier_type,
        trim(identifier_value) as identifier_value
    from {{ ref('identity_deny_list') }}

),

classified as (

    select
        usage.identifier_type,
        usage.identifier_value,
        usage.linked_value_count,
        usage.link_group_count,
        case
            when deny_list.identifier_value is not null then 'deny_list'
            when usage.linked_value_count > {{ max_persons }} then 'shared'
            when
                usage.is_never_linked
                and usage.identifier_type in ('email', 'phone')
                and usage.alone_count > {{ max_unlinked_records }}
                then 'unlinked_frequent'
        end as reason,
        deny_list.reason as deny_reason
    from usage
    left join deny_list
        on
            usage.identifier_type = deny_list.identifier_type
            and usage.identifier_value = deny_list.identifier_value

),

final as (

    select
        identifier_type,
        identifier_value,
        reason,
        case reason
            when 'deny_list' then deny_reason
            when 'shared' then 'seen with more than {{ max_persons }} values of one identifier type'
            else 'alone on more than {{ max_unlinked_records }} records, never with another identifier'
        end as detail,
        linked_value_count,
        link_group_count
    from classified
    where reason is not null

)

select * from final
