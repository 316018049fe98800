import React from 'react';
import { InlineField, Input } from '@grafana/ui';

interface Props {
  id: string;
  label: string;
  labelWidth?: number;
  tooltip: string;
  error?: string;
  min?: number;
  max?: number;
  width?: number;
  value: number | undefined;
  placeholder: string;
  /** every keystroke: undefined when cleared (the backend's default) */
  onChange: (value: number | undefined) => void;
  /** the query runs when the field is left */
  onBlur: () => void;
}

/** A number of a query (a limit, a rate, a minimum score): empty for the backend's default. */
export function NumberField({
  id,
  label,
  labelWidth = 8,
  tooltip,
  error,
  min,
  max,
  width = 12,
  value,
  placeholder,
  onChange,
  onBlur,
}: Props) {
  return (
    <InlineField label={label} labelWidth={labelWidth} tooltip={tooltip} invalid={!!error} error={error}>
      <Input
        id={id}
        type="number"
        min={min}
        max={max}
        width={width}
        value={value ?? ''}
        placeholder={placeholder}
        onChange={(e) => {
          const raw = e.currentTarget.value;
          onChange(raw === '' ? undefined : Number(raw));
        }}
        onBlur={onBlur}
      />
    </InlineField>
  );
}
