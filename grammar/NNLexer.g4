// NNLexer.g4 - Tokens of the .nn language.
//
// Newlines are tokens: statements end at a newline or ';'. Which newlines
// matter (not those inside ( ), [ ] and { } maps) and whether a '{' opens a
// map or a block is decided by the token pass in frontend/ParseTokens.cpp,
// which retypes map braces to MAP_OPEN / MAP_CLOSE. No actions here.
lexer grammar NNLexer;

tokens { MAP_OPEN, MAP_CLOSE }

// Keywords. `train`, `model`, `dataset`, `block`, `finetune` and `import` are
// also accepted wherever a name is (`model = mlp`, `split(train, 0.1)`).
IMPORT   : 'import';
DATASET  : 'dataset';
BLOCK    : 'block';
MODEL    : 'model';
TRAIN    : 'train';
FINETUNE : 'finetune';
GROUP    : 'group';
REPEAT   : 'repeat';
UNTIL    : 'until';

ID     : [a-zA-Z_] [a-zA-Z_0-9]*;
NUMBER : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT?;
STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"';
// A string that reaches the end of its line, and one in single quotes:
// reported by the token pass, then parsed as strings.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'?;
SINGLE_QUOTED_STRING : '\'' ~['\r\n]* '\'';

ARROW  : '->';
LPAREN : '(';
RPAREN : ')';
LBRACK : '[';
RBRACK : ']';
LBRACE : '{';
RBRACE : '}';
COMMA  : ',';
COLON  : ':';
SEMI   : ';';
ASSIGN : '=';
PLUS   : '+';
MINUS  : '-';
STAR   : '*';
SLASH  : '/';

NEWLINE : '\r'? '\n' | '\r';
WS      : [ \t\f\uFEFF]+ -> skip;
COMMENT : ('//' | '#') ~[\r\n]* -> skip;

// Anything else: reported by the token pass, so the lexer never fails.
ERROR_CHAR : .;

fragment DIGITS   : [0-9]+;
fragment EXPONENT : [eE] [+-]? DIGITS;
