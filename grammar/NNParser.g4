// NNParser.g4 - The syntax of the .nn language.
//
// Pure grammar, no actions or predicates: frontend/ParseTree.cpp turns the
// parse tree into the AST (frontend/AST.h). The token stream comes from the
// token pass (frontend/ParseTokens.cpp): delimiters are balanced, newlines
// inside ( ), [ ] and maps are gone, and map braces are MAP_OPEN/MAP_CLOSE.
//
// Statements and declarations may follow each other without a separator in
// the grammar so that such a mistake is one error at one statement (the AST
// builder reports it), not a failure of the enclosing body. `stmt` and `decl`
// are where the error strategy resumes after a syntax error.
parser grammar NNParser;

options { tokenVocab = NNLexer; }

module : (sep | decl)* EOF;

decl
  : IMPORT STRING                               # importDecl
  | DATASET name body                           # datasetDecl
  | BLOCK name params body                      # blockDecl
  | MODEL name params (ARROW typeRef)? body     # modelDecl
  | TRAIN name? body                            # trainDecl
  | FINETUNE name? body                         # finetuneDecl
  ;

params : LPAREN (param (COMMA param)* COMMA?)? RPAREN;
param  : name COLON typeRef (ASSIGN expr)?;
// `int`, `f32[1, 28, 28]`
typeRef : name (LBRACK (expr (COMMA expr)* COMMA?)? RBRACK)?;

body : LBRACE (sep | stmt)* RBRACE;
sep  : NEWLINE | SEMI;

stmt
  : GROUP name body          # groupStmt
  | REPEAT expr body         # repeatStmt
  | name ASSIGN expr         # assignStmt
  | name COLON expr          # labelStmt
  | name body                # sectionStmt
  | expr                     # exprStmt
  ;

// Precedence, loosest first: until, ->, + -, * /, unary -. Written as loops,
// not left recursion, so that long chains give flat parse trees.
expr     : pipeline (UNTIL pipeline)?;
pipeline : arith (ARROW arith)*;
arith    : term ((PLUS | MINUS) term)*;
term     : unary ((STAR | SLASH) unary)*;
unary    : MINUS* primary;

primary
  : NUMBER                                               # numberExpr
  | STRING                                               # stringExpr
  | name LPAREN (arg (COMMA arg)* COMMA?)? RPAREN        # callExpr
  | name                                                 # identExpr
  | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK           # listExpr
  | MAP_OPEN (entry (COMMA entry)* COMMA?)? MAP_CLOSE    # mapExpr
  | LPAREN expr RPAREN                                   # parenExpr
  ;

arg   : (name ASSIGN)? expr;
entry : (name | STRING) COLON expr;

name : ID | TRAIN | MODEL | DATASET | BLOCK | FINETUNE | IMPORT;
