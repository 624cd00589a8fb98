namespace AlexNet.Pipeline.Storage;

/// <summary>
/// The subset of Azure's blob tag query language that <see cref="LocalFolderBlobStore"/> evaluates:
/// conditions <c>"key" op 'value'</c> joined by <c>AND</c>, where op is one of = &gt; &gt;= &lt; &lt;=
/// compared ordinally, and <c>@container = 'name'</c>. Like Azure, there is no OR and no NOT.
/// </summary>
internal sealed class BlobTagQuery
{
    private BlobTagQuery(string? container, IReadOnlyList<Condition> conditions)
    {
        Container = container;
        Conditions = conditions;
    }

    public string? Container { get; }

    public IReadOnlyList<Condition> Conditions { get; }

    public static BlobTagQuery Parse(string query)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var reader = new Reader(query);
        string? container = null;
        var conditions = new List<Condition>();
        do
        {
            var (key, isContainer) = reader.ReadKey();
            var op = reader.ReadOperator();
            var value = reader.ReadValue();
            if (isContainer)
            {
                if (op != Operator.Equal || container is not null)
                {
                    throw reader.Error("@container may appear once and only with =");
                }

                container = value;
            }
            else
            {
                conditions.Add(new Condition(key, op, value));
            }
        }
        while (reader.ReadAndOrEnd());

        if (conditions.Count == 0)
        {
            throw reader.Error("at least one tag condition is needed besides @container");
        }

        return new BlobTagQuery(container, conditions);
    }

    public bool Matches(string container, IReadOnlyDictionary<string, string> tags)
    {
        if (Container is not null && !string.Equals(Container, container, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var condition in Conditions)
        {
            if (!tags.TryGetValue(condition.Key, out var actual))
            {
                return false;
            }

            var order = string.CompareOrdinal(actual, condition.Value);
            var holds = condition.Operator switch
            {
                Operator.Equal => order == 0,
                Operator.Greater => order > 0,
                Operator.GreaterOrEqual => order >= 0,
                Operator.Less => order < 0,
                Operator.LessOrEqual => order <= 0,
                _ => false,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    internal enum Operator
    {
        Equal,
        Greater,
        GreaterOrEqual,
        Less,
        LessOrEqual,
    }

    internal sealed record Condition(string Key, Operator Operator, string Value);

    private sealed class Reader(string text)
    {
        private int position;

        public (string Key, bool IsContainer) ReadKey()
        {
            SkipSpaces();
            if (Peek() == '"')
            {
                var key = ReadQuoted('"');
                return key.Length == 0 ? throw Error("empty tag name") : (key, false);
            }

            var start = position;
            while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '@' or '-' or '.'))
            {
                position++;
            }

            if (position == start)
            {
                throw Error("expected a tag name");
            }

            var bare = text[start..position];
            if (bare.StartsWith('@'))
            {
                return string.Equals(bare, "@container", StringComparison.OrdinalIgnoreCase)
                    ? (bare, true)
                    : throw Error($"unknown property {bare}");
            }

            return (bare, false);
        }

        public Operator ReadOperator()
        {
            SkipSpaces();
            var c = Peek();
            position++;
            switch (c)
            {
                case '=':
                    return Operator.Equal;
                case '>' or '<' when Peek() == '=':
                    position++;
                    return c == '>' ? Operator.GreaterOrEqual : Operator.LessOrEqual;
                case '>':
                    return Operator.Greater;
                case '<':
                    return Operator.Less;
                default:
                    position--;
                    throw Error("expected one of = > >= < <=");
            }
        }

        public string ReadValue()
        {
            SkipSpaces();
            return Peek() == '\'' ? ReadQuoted('\'') : throw Error("expected a value in single quotes");
        }

        public bool ReadAndOrEnd()
        {
            SkipSpaces();
            if (position == text.Length)
            {
                return false;
            }

            if (text.Length - position > 3
                && string.Compare(text, position, "AND", 0, 3, StringComparison.OrdinalIgnoreCase) == 0
                && char.IsWhiteSpace(text[position + 3]))
            {
                position += 3;
                return true;
            }

            throw Error("expected AND or the end of the query (OR and NOT are not supported)");
        }

        public FormatException Error(string what) =>
            new($"Invalid blob tag query at position {position}: {what}. Query: {text}");

        private string ReadQuoted(char quote)
        {
            position++;
            var end = text.IndexOf(quote, position);
            if (end < 0)
            {
                throw Error($"missing closing {quote}");
            }

            var value = text[position..end];
            position = end + 1;
            return value;
        }

        private char Peek() => position < text.Length ? text[position] : '\0';

        private void SkipSpaces()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }
    }
}
