{#- ITU calling code of an ISO 3166 alpha-2 country, for numbers written without one. -#}
{% macro country_calling_code(country) -%}
    {%- set codes = {
        'US': '1', 'CA': '1', 'GB': '44', 'IE': '353', 'DE': '49', 'AT': '43', 'CH': '41',
        'FR': '33', 'BE': '32', 'NL': '31', 'LU': '352', 'ES': '34', 'PT': '351', 'IT': '39',
        'DK': '45', 'SE': '46', 'NO': '47', 'FI': '358', 'PL': '48', 'CZ': '420', 'GR': '30',
        'AU': '61', 'NZ': '64', 'JP': '81', 'IN': '91', 'SG': '65', 'BR': '55', 'MX': '52',
        'ZA': '27',
    } -%}
    {%- set key = (country or '') | upper | trim -%}
    {%- if key not in codes -%}
        {{ exceptions.raise_compiler_error("default_country '" ~ country ~ "' has no calling code; add it to country_calling_code") }}
    {%- endif -%}
    {{ return(codes[key]) }}
{%- endmacro %}
